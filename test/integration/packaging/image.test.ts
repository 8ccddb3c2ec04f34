// The image, assembled the way the Dockerfile does it (there is no Docker engine here): the build
// context as .dockerignore leaves it, `npm run build` (the esbuild bundle) in it, then a runtime
// directory with only package.json and dist/ — no node_modules. That directory must start the
// operator with the image's command (`node --optimize-for-size --lite-mode dist/main.js`), and, run with the chart's environment and a token bound by exactly the
// chart's RBAC, the operator must become ready and take its Lease on a real API server.
import assert from 'node:assert/strict';
import { suiteFixture } from '../../support/suite.ts';
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import * as yaml from 'js-yaml';
import { startControlPlane } from '../../env/controlplane.ts';
import { freePort, makeTempDir, ManagedProcess, removeTempDir, waitFor } from '../../env/process.ts';
import { OPERATOR_COMMAND, OPERATOR_NODE_FLAGS } from '../../support/operator-command.ts';
import { isIgnored, readDockerignore } from '../../unit/packaging/docker.ts';
import { findObject, renderChart, repoRoot, type KubeObject } from '../../unit/packaging/helm.ts';

const execFileAsync = promisify(execFile);
const node = process.execPath; // Node 24: the tests run under the project's pinned node
let work: string;
let app: string;

/** Files of the repository (tracked and untracked, not ignored) that Docker would send as the build context. */
function buildContext(): string[] {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: repoRoot, encoding: 'utf8' }).split('\n').filter(Boolean);
  const patterns = readDockerignore();
  return files.filter((file) => !isIgnored(file, patterns) && existsSync(join(repoRoot, file)));
}

before(async () => {
  work = makeTempDir('image');
  // build stage: COPY package*.json, tsconfig.json, build.ts, src; node_modules stands for `npm ci` (same lockfile).
  const build = join(work, 'build');
  for (const file of buildContext()) cpSync(join(repoRoot, file), join(build, file), { recursive: true });
  symlinkSync(join(repoRoot, 'node_modules'), join(build, 'node_modules'));
  await execFileAsync('npm', ['run', 'build'], { cwd: build, maxBuffer: 16 * 1024 * 1024 });
  // runtime stage: package.json and dist, nothing else.
  app = join(work, 'app');
  mkdirSync(app);
  cpSync(join(repoRoot, 'package.json'), join(app, 'package.json'));
  renameSync(join(build, 'dist'), join(app, 'dist'));
});
after(() => {
  if (work) removeTempDir(work);
});

/** The JavaScript files of dist/, relative to it. */
function bundleFiles(): string[] {
  return readdirSync(join(app, 'dist'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.js')).sort();
}

describe('image layout', () => {
  test('the build context is package*.json, tsconfig.json, build.ts and src/ only', () => {
    const context = buildContext();
    assert.ok(context.includes('src/main.ts'));
    assert.ok(context.includes('build.ts'));
    const outside = context.filter((file) => !file.startsWith('src/') && !/^(package(-lock)?\.json|tsconfig\.json|build\.ts)$/.test(file));
    assert.deepEqual(outside, []);
  });

  test("the bundle holds none of @kubernetes/client-node's generated API models (build.ts marks the package free of side effects)", () => {
    // Every generated model class declares attributeTypeMap; the ObjectSerializer's typeMap names them all.
    const models = bundleFiles().filter((file) => /\battributeTypeMap\b|\bV1PodSpec\b/.test(readFileSync(join(app, 'dist', file), 'utf8')));
    assert.deepEqual(models, []);
  });

  test('the runtime directory is package.json and the bundle, dist/main.js and its chunks: no node_modules, no TypeScript', () => {
    assert.deepEqual(readdirSync(app).sort(), ['dist', 'package.json']);
    assert.deepEqual(readdirSync(join(app, 'dist')).sort(), ['chunks', 'main.js']);
    const builtin = (name: string) => name.startsWith('node:') || builtinModules.includes(name);
    const bundled = (name: string) => /^\.\/chunks\/[\w.-]+\.js$/.test(name); // main.js importing a chunk
    // The libraries' comments hold relative names too (JSDoc type references); loading every chunk
    // (below) proves the real ones. A package name is always an import left unbundled.
    const relative = (name: string) => name.startsWith('.');
    for (const file of bundleFiles()) {
      const text = readFileSync(join(app, 'dist', file), 'utf8');
      const specifiers = [
        ...text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gms), // import/export ... from "x" (over several lines)
        ...text.matchAll(/^import\s*["']([^"']+)["']/gm), // import "x"
        ...text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g), // import("x")
      ].map((m) => m[1] as string);
      assert.ok(file !== 'main.js' || specifiers.some(bundled), 'main.js imports its chunks');
      assert.deepEqual(specifiers.filter((name) => !builtin(name) && !relative(name)), [], `${file}: every import left is a Node built-in or a file of the bundle`);
    }
  });

  test('every chunk loads from the bundle alone, as the first reconcile loads the data path', async () => {
    const chunks = bundleFiles().filter((file) => file.startsWith('chunks/'));
    assert.ok(chunks.some((file) => file.startsWith('chunks/data-path-')), 'the data path is a chunk of its own');
    const script = `for (const file of ${JSON.stringify(chunks)}) await import('./dist/' + file);`;
    await execFileAsync(node, ['--input-type=module', '-e', script], { cwd: app, env: { PATH: process.env.PATH, NODE_ENV: 'production' } });
  });

  test('node dist/main.js --help loads the whole program from the bundle alone', async () => {
    const { stdout } = await execFileAsync(node, ['dist/main.js', '--help'], { cwd: app, env: { PATH: process.env.PATH, NODE_ENV: 'production' } });
    assert.match(stdout, /^Usage: kmsstack-operator/);
    assert.match(stdout, /KMSSTACK_WATCH_NAMESPACES/);
  });

  describe('run with the chart\'s environment and RBAC', () => {
    let operator: ManagedProcess | undefined;
    const cp = suiteFixture(() => startControlPlane(), () => operator?.stop(35_000));

    test('the operator becomes ready and holds its Lease', async () => {
      for (const ns of ['kmsstack-system', 'team-a']) await cp.kubectl(['create', 'namespace', ns]);
      const objects = await renderChart({ watchNamespaces: ['team-a'] });
      const rbac = objects.filter((o: KubeObject) => ['ServiceAccount', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind));
      await cp.kubectl(['apply', '-f', '-'], rbac.map((o) => `---\n${yaml.dump(o)}`).join(''));
      const token = await cp.mintServiceAccountToken('kmsstack-system', 'kmsstack-operator');
      const kubeconfig = cp.kubeConfigForToken(token, 'operator').path;

      const container = (findObject(objects, 'Deployment').spec as { template: { spec: { containers: { command: string[]; env: { name: string; value?: string; valueFrom?: { fieldRef: { fieldPath: string } } }[] }[] } } }).template.spec.containers[0];
      assert.ok(container);
      const port = await freePort();
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, NODE_ENV: 'production', KUBECONFIG: kubeconfig };
      for (const variable of container.env) {
        const field = variable.valueFrom?.fieldRef.fieldPath;
        env[variable.name] = field === 'metadata.namespace' ? 'kmsstack-system' : field === 'metadata.name' ? 'kmsstack-operator-0' : variable.value;
      }
      env.KMSSTACK_HTTP_ADDRESS = `127.0.0.1:${port}`; // the chart's :8080 on all interfaces, moved to a free loopback port
      assert.deepEqual(container.command, OPERATOR_COMMAND);
      const log = join(work, 'operator.log');
      operator = new ManagedProcess('operator', node, [...OPERATOR_NODE_FLAGS, join(app, 'dist/main.js')], log, env).start();

      const probe = async (path: string) => {
        const response = await fetch(`http://127.0.0.1:${port}${path}`).catch(() => undefined);
        return response?.status === 200 ? true : undefined;
      };
      try {
        await waitFor('/healthz', () => probe('/healthz'), 60_000, 250);
        await waitFor('/readyz', () => probe('/readyz'), 60_000, 250);
        const holder = await waitFor('the Lease', async () => {
          const { stdout } = await cp.kubectl(['get', 'lease', 'kmsstack-operator-leader', '-n', 'kmsstack-system', '-o', 'jsonpath={.spec.holderIdentity}']).catch(() => ({ stdout: '' }));
          return stdout || undefined;
        }, 60_000, 250);
        assert.match(holder, /^kmsstack-operator-0_/);
      } catch (err) {
        throw new Error(`${(err as Error).message}\noperator log:\n${readFileSync(log, 'utf8').slice(-4000)}`);
      }
      const logText = readFileSync(log, 'utf8');
      assert.doesNotMatch(logText, /forbidden/i, 'the operator hit an RBAC refusal');
    });
  });
});
