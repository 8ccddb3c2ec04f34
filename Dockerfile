# syntax=docker/dockerfile:1
# kmsstack-operator image: TypeScript compiled in a build stage, production dependencies installed in
# a separate stage, and a runtime stage with only dist/ and those node_modules, running as a numeric
# non-root user. Node's major version is the one the project pins (devDependency "node": "24").
#
#   docker build -t registry.example.com/kmsstack-operator:0.1.0 .
ARG NODE_IMAGE=node:24-bookworm-slim

# Production dependencies only. --ignore-scripts: none of them has an install script, and the
# devDependency "node" (whose preinstall downloads a second Node binary) is not installed here.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Everything, dev dependencies included, to compile src/ to dist/ with `npm run build` (tsc).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/package.json ./package.json
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Numeric, so that Kubernetes can verify runAsNonRoot without reading /etc/passwd; the chart uses the same.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["node", "dist/main.js"]
