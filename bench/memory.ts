// Operator memory under variants of its build, node flags and environment: for each variant, one
// operator process (as in `npm run bench`) idles, converges N KMSDeployments of its own namespace,
// and its RSS is read, split by kind of mapping (malloc heap, anonymous = V8 heap, file). Variants
// run one after another against one set of servers, in the order given, twice each (ABAB...) so
// that drift on a shared machine shows. Prints a table; asserts nothing. See docs/benchmarks.md.
//   npm run bench:memory -- --n 100 --variant 'default' --variant 'semi1|--max-semi-space-size=1' \
//     --variant 'arena2||MALLOC_ARENA_MAX=2' --variant 'minified|||--minify-whitespace'
// A variant is name|node flags (space-separated)|environment (A=1,B=2)|extra esbuild flags.
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createLogger } from '../src/runtime/logger.ts';
import { makeTempDir, removeTempDir } from '../test/env/process.ts';
import { startEnvironment } from './lib/environment.ts';
import { buildOperator, type BuiltOperator, OperatorProcess } from './lib/operator-process.ts';
import { rssBreakdownOf } from './lib/procstat.ts';
import { mapPool } from './lib/stats.ts';
import { benchKMSDeployment, ConvergenceWatch, objectName } from './lib/workload.ts';

interface Variant {
  name: string;
  nodeFlags: string[];
  env: Record<string, string>;
  esbuildFlags: string[];
}

function parseVariant(text: string): Variant {
  const [name = '', flags = '', env = '', esbuild = ''] = text.split('|');
  const words = (s: string) => s.split(' ').filter(Boolean);
  return {
    name,
    nodeFlags: words(flags),
    env: Object.fromEntries(env.split(',').filter(Boolean).map((pair) => pair.split('=', 2) as [string, string])),
    esbuildFlags: words(esbuild),
  };
}

const { values } = parseArgs({
  options: { n: { type: 'string', default: '100' }, variant: { type: 'string', multiple: true, default: ['default'] },
    rounds: { type: 'string', default: '2' } },
});
const n = Number(values.n);
const variants = (values.variant ?? []).map(parseVariant);
/** How long a converged operator is left alone before its memory is read again. */
const SETTLE_MS = 30_000;
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

const workDir = makeTempDir('bench-memory');
const builds = new Map<string, BuiltOperator>();
const env = await startEnvironment();
const rows: string[] = [];
try {
  let round = 0;
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const variant of variants) {
      const key = variant.esbuildFlags.join(' ');
      if (!builds.has(key)) builds.set(key, buildOperator(variant.esbuildFlags));
      const namespace = `memory-${round++}`;
      await env.prepareNamespace(namespace);
      const operator = await OperatorProcess.start(builds.get(key) as BuiltOperator, {
        kubeconfigPath: env.operatorKubeconfigPath,
        watchNamespace: namespace,
        resyncPeriod: '10m', // the operator's default, as npm run bench runs it
        workers: 2,
        vaultAddress: env.vault.address,
        logFile: join(workDir, `${namespace}.log`),
        nodeFlags: variant.nodeFlags,
        env: variant.env,
      });
      await operator.waitReady();
      await sleep(3000);
      const idle = { ...(await operator.memoryDetail()), ...rssBreakdownOf(operator.pid) };
      const watch = new ConvergenceWatch(env.admin, namespace, silent);
      await watch.start();
      const names = Array.from({ length: n }, (_, i) => objectName(i));
      const started = performance.now();
      await mapPool(names, 4, async (name) => {
        const since = performance.now();
        const created = await env.admin.create(benchKMSDeployment(namespace, name, env.vault.address));
        watch.track(name, since, created.metadata.generation ?? 1);
      });
      const { lastAt } = await watch.waitAll(names, Math.max(120_000, n * 1000));
      await watch.stop();
      await sleep(3000);
      const busy = { ...(await operator.memoryDetail()), ...rssBreakdownOf(operator.pid) };
      // Left alone, V8's memory reducer gives back heap the converging left behind.
      await sleep(SETTLE_MS);
      const settled = await operator.memoryDetail();
      await operator.stop();
      const row = `| ${variant.name} | ${mib(idle.rssBytes)} (${mib(idle.mallocBytes)} / ${
        mib(idle.anonymousBytes)
      } / ${mib(idle.fileBytes)}) | ${mib(idle.heapUsedBytes)} | ${((lastAt - started) / 1000).toFixed(1)} s | ${
        mib(busy.rssBytes)
      } (${mib(busy.mallocBytes)} / ${mib(busy.anonymousBytes)} / ${mib(busy.fileBytes)}) | ${mib(busy.peakBytes)} | ${
        mib(busy.heapUsedBytes)
      } / ${mib(busy.externalBytes)} | ${mib(settled.rssBytes)} / ${mib(settled.heapUsedBytes)} |`;
      rows.push(row);
      console.log(row);
    }
  }
} finally {
  await env.stop();
  for (const built of builds.values()) built.remove();
  removeTempDir(workDir);
}
console.log(`\nN = ${n}; MiB; RSS (malloc heap / anonymous / file)\n`);
console.log(
  `| variant | idle RSS (malloc / anon / file) | idle JS heap used | converge N | RSS with N converged (malloc / anon / file) | peak | JS heap used / external | ${
    SETTLE_MS / 1000
  } s later: RSS / JS heap used |`,
);
console.log('|---|---|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
