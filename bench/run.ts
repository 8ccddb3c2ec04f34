// `npm run bench` — how fast and how light the operator is, against a real kube-apiserver and a
// real Vault, next to the floor (the same writes made by a plain script). Prints figures and a
// markdown table; asserts nothing. See docs/benchmarks.md.
//   npm run bench [-- --n 1,100,500] [--workers 2] [--resync 10s] [--concurrency 4] [--cpu-prof] [--heap-snapshot] [--docs] [--json file]
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/api/duration.ts';
import { leftovers, makeTempDir, removeTempDir, repoRoot } from '../test/env/process.ts';
import { writeMarkedSection } from './lib/docs-section.ts';
import { importCosts, importCostTable } from './lib/import-cost.ts';
import { type CpuProfile, formatProfile, summarizeProfile } from './lib/cpu-profile.ts';
import { buildOperator, cpuProfiles } from './lib/operator-process.ts';
import { type Machine, machineText, resultsTable, type RunSettings, writeComparison } from './lib/report.ts';
import { type RoundResult, runRound } from './lib/round.ts';

const DOCS = join(repoRoot, 'docs/benchmarks.md');
const BEGIN = '<!-- bench:results:begin (written by npm run bench -- --docs) -->';
const END = '<!-- bench:results:end -->';

function parseOptions() {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '1,100,500' },
      workers: { type: 'string', default: '2' },
      resync: { type: 'string', default: '10m' },
      concurrency: { type: 'string', default: '4' },
      'cpu-prof': { type: 'boolean', default: false },
      'heap-snapshot': { type: 'boolean', default: false },
      docs: { type: 'boolean', default: false },
      json: { type: 'string' },
      'keep-logs': { type: 'boolean', default: false },
    },
  });
  const sizes = values.n.split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 5000)) {
    throw new Error(`--n: a comma-separated list of whole numbers 1-5000 (got "${values.n}")`);
  }
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new Error(`--workers: 1-64 (got "${values.workers}")`);
  }
  const resyncPeriodMs = parseDuration(values.resync);
  if (resyncPeriodMs === undefined || resyncPeriodMs < 10_000) {
    throw new Error(`--resync: a duration of at least 10s, the operator's minimum (got "${values.resync}")`);
  }
  const clientConcurrency = Number(values.concurrency);
  if (!Number.isInteger(clientConcurrency) || clientConcurrency < 1) {
    throw new Error(`--concurrency: a whole number >= 1 (got "${values.concurrency}")`);
  }
  return { sizes, workers, resyncPeriodMs, clientConcurrency, cpuProfile: values['cpu-prof'],
    heapSnapshot: values['heap-snapshot'], docs: values.docs, json: values.json, keepLogs: values['keep-logs'] };
}

function machine(versions: string): Machine {
  const list = cpus();
  return {
    cpus: `${list.length} cores (${list[0]?.model.trim() ?? 'unknown CPU'})`,
    memory: `${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    node: process.version,
    os: `Linux ${release()}`,
    servers: versions,
  };
}

async function main(): Promise<void> {
  const options = parseOptions();
  const workDir = makeTempDir('bench-run');
  const log = (line: string) => console.log(line);
  const started = performance.now();
  log(`building the operator (npm run build: the esbuild bundle the image runs) ...`);
  const built = buildOperator();
  const imports = importCostTable(importCosts());
  const results: RoundResult[] = [];
  const profiles: string[] = [];
  let versions = '';
  try {
    for (const n of options.sizes) {
      log(`\nN = ${n}`);
      const result = await runRound(built, { n, workers: options.workers, resyncPeriodMs: options.resyncPeriodMs,
        clientConcurrency: options.clientConcurrency, workDir, cpuProfile: options.cpuProfile,
        heapSnapshot: options.heapSnapshot, log });
      results.push(result);
      versions = result.versions;
      if (result.cpuProfileDir) {
        for (const file of cpuProfiles(result.cpuProfileDir)) {
          const text = `N = ${n}, first operator process (convergence, steady state, burst): ${
            formatProfile(summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile))
          }`;
          profiles.push(text);
          log(text);
        }
      }
    }
  } finally {
    built.remove();
    if (options.keepLogs) log(`\noperator logs and profiles kept in ${workDir}`);
    else removeTempDir(workDir);
  }

  const settings: RunSettings = {
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, ''),
    workers: options.workers,
    resyncPeriodMs: options.resyncPeriodMs,
    clientConcurrency: options.clientConcurrency,
    date: new Date().toISOString().slice(0, 10),
  };
  const largest = results.at(-1) as RoundResult;
  const section = [
    machineText(machine(versions), settings),
    '',
    resultsTable(results),
    '',
    `Writes to converge N = ${largest.n}, operator against floor (the floor copies what the operator wrote):`,
    '',
    writeComparison(largest),
    '',
    'Idle memory is mostly loaded code. RSS of a fresh Node process importing one runtime dependency of the operator (these overlap, so they do not add up):',
    '',
    imports,
    ...(results.some((r) => r.heapSummary)
      ? ['', 'Heap snapshot of the operator with N converged (`--heap-snapshot`):', '', '```',
        ...results.flatMap((r) => r.heapSummary ?? []), '```']
      : []),
    ...(profiles.length ? ['', 'CPU profile of the operator (`--cpu-prof`):', '', '```', ...profiles, '```'] : []),
  ].join('\n');
  log(`\n${section}\n`);
  log(`total time ${((performance.now() - started) / 1000).toFixed(0)} s`);
  if (options.json) writeFileSync(options.json, JSON.stringify({ settings, results }, null, 2));
  if (options.docs) {
    writeMarkedSection(DOCS, BEGIN, END, section);
    log(`wrote the results into ${DOCS}`);
  }
  const left = leftovers();
  const tempDirs = left.tempDirs.filter((dir) => !(options.keepLogs && dir === workDir));
  if (left.processes.length || tempDirs.length) {
    throw new Error(`left behind: ${JSON.stringify({ processes: left.processes, tempDirs })}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : String(err));
  process.exitCode = 1;
});
