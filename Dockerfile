# syntax=docker/dockerfile:1
# kmsstack-operator image: the operator bundled into one file (esbuild: src/ and the production
# dependencies it imports, nothing else) in a build stage, and a runtime stage with only that file,
# running as a numeric non-root user. Loading one tree-shaken file instead of dist/ plus node_modules
# saves about a third of the idle memory (docs/benchmarks.md). Node's major version is the one the
# project pins (devDependency "node": "24").
#
#   docker build -t registry.example.com/kmsstack-operator:0.1.0 .
ARG NODE_IMAGE=node:24-bookworm-slim

# Everything, dev dependencies included, to bundle src/ into dist/main.js with `npm run build`.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json build.ts ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# package.json says "type": "module", which dist/main.js (ESM) needs; no node_modules: all is bundled.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/dist ./dist
# Numeric, so that Kubernetes can verify runAsNonRoot without reading /etc/passwd; the chart uses the same.
USER 65532:65532
EXPOSE 8080
# --optimize-for-size: V8 keeps the heap small (docs/benchmarks.md: ~335 -> ~140 MiB RSS with 100
# KMSDeployments); --lite-mode: no optimizing compilers (~7 MiB idle, ~60 MiB with 500). Node refuses
# them in NODE_OPTIONS, so every command line names them (test/support/operator-command.ts).
ENTRYPOINT ["node", "--optimize-for-size", "--lite-mode", "dist/main.js"]
