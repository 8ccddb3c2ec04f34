// The Dockerfile checked by construction (no Docker engine here): Node's pinned major, a build stage
// running `npm ci` and `npm run build`, production dependencies without dev ones, a runtime stage that
// holds only dist/ and node_modules and runs as the chart's numeric non-root user.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as yaml from 'js-yaml';
import { OPERATOR_COMMAND } from '../../support/operator-command.ts';
import { isIgnored, readDockerfile, readDockerignore, type Stage } from './docker.ts';
import { chartDir, repoRoot } from './helm.ts';

const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  devDependencies: Record<string, string>;
};
const dockerfile = readDockerfile();
const runtime = dockerfile.stages.at(-1) as Stage;
const stage = (name: string) => {
  const found = dockerfile.stages.find((s) => s.name === name);
  assert.ok(found, `no stage named ${name}`);
  return found;
};
const runs = (s: Stage) => s.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
const copies = (s: Stage) => s.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args.split(/\s+/));

describe('Dockerfile', () => {
  test('every stage is the official Node image of the major version the project pins', () => {
    const pinned = /^(\d+)/.exec(packageJson.devDependencies.node ?? '')?.[1];
    assert.ok(pinned, 'package.json pins no node devDependency');
    assert.equal(dockerfile.stages.length, 2);
    for (const s of dockerfile.stages) assert.match(s.from, new RegExp(`^node:${pinned}-[a-z]+-slim$`), `stage ${s.name}`);
  });

  test('the build stage installs everything with npm ci and bundles with npm run build into dist/main.js (and lazily loaded chunks)', () => {
    const build = stage('build');
    assert.deepEqual(runs(build), ['npm ci --no-audit --no-fund', 'npm run build']);
    // --splitting: what is loaded with import() (the S3 client, only for deployments with buckets) is a chunk of its own.
    assert.equal(packageJson.scripts.build, 'node build.ts');
    const script = readFileSync(join(repoRoot, 'build.ts'), 'utf8');
    for (const option of ["entryPoints: ['src/main.ts']", 'bundle: true', "platform: 'node'", "format: 'esm'", 'splitting: true', "entryNames: '[name]'", "chunkNames: 'chunks/[name]-[hash]'"]) {
      assert.ok(script.includes(option), `build.ts sets ${option}`);
    }
    assert.deepEqual(copies(build), [
      ['package.json', 'package-lock.json', './'],
      ['tsconfig.json', 'build.ts', './'],
      ['src', './src'],
    ]);
  });

  test('the runtime stage holds only package.json and the bundle: no node_modules', () => {
    assert.equal(runs(runtime).length, 0, 'the runtime stage runs nothing');
    assert.deepEqual(copies(runtime), [
      ['--from=build', '/app/package.json', './package.json'],
      ['--from=build', '/app/dist', './dist'],
    ]);
    const env = runtime.instructions.filter((i) => i.keyword === 'ENV').map((i) => i.args);
    assert.deepEqual(env, ['NODE_ENV=production']);
  });

  test('it runs the operator command as the numeric non-root user the chart expects', () => {
    const user = runtime.instructions.filter((i) => i.keyword === 'USER').map((i) => i.args);
    assert.deepEqual(user, ['65532:65532']);
    const values = yaml.load(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as { securityContext: { runAsUser: number; runAsGroup: number } };
    assert.deepEqual(values.securityContext, { runAsUser: 65532, runAsGroup: 65532 });
    const entrypoint = runtime.instructions.find((i) => i.keyword === 'ENTRYPOINT')?.args;
    assert.deepEqual(JSON.parse(entrypoint ?? 'null'), OPERATOR_COMMAND);
    assert.deepEqual(runtime.instructions.find((i) => i.keyword === 'WORKDIR')?.args, '/app');
    const scripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    assert.equal(scripts['start'], OPERATOR_COMMAND.join(' '), 'npm start runs what the image runs');
  });

  test('.dockerignore keeps what the build copies and leaves the rest out', () => {
    const patterns = readDockerignore();
    const copied = dockerfile.stages.flatMap(copies).filter((args) => !args[0]?.startsWith('--from=')).flatMap((args) => args.slice(0, -1));
    for (const source of copied) assert.ok(!isIgnored(source, patterns), `${source} is copied but .dockerignore excludes it`);
    for (const kept of ['src/main.ts', 'package.json', 'package-lock.json', 'tsconfig.json', 'build.ts']) assert.ok(!isIgnored(kept, patterns), kept);
    for (const left of ['node_modules/x', 'dist/main.js', '.git/HEAD', 'test/unit/x.ts', 'charts/x', 'deploy/x', 'crds/x.yaml', '.env', '.env.local', 'npm-debug.log', 'README.md', '.tmp/x']) {
      assert.ok(isIgnored(left, patterns), `${left} would be sent to the build`);
    }
  });
});
