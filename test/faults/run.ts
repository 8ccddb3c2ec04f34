// `npm run test:faults [-- --seed N] [--trials N] [--only <name>] [--no-docs]`: runs every
// test/faults/*.fault.ts with Node's test runner, one file at a time, with one seed for the whole
// run (printed first; --seed replays it), then writes the figures the cases recorded into
// docs/reliability.md between the markers. A partial run (--only) or --no-docs leaves the doc alone.
import { randomInt } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { repoRoot } from '../env/process.ts';
import { renderResults, replaceResults, type FaultResult } from './results.ts';

const { values } = parseArgs({
  options: { seed: { type: 'string' }, trials: { type: 'string' }, only: { type: 'string' }, 'no-docs': { type: 'boolean' } },
  strict: true,
});
const seed = values.seed === undefined ? randomInt(2 ** 31) : Number(values.seed);
if (!Number.isSafeInteger(seed)) throw new Error(`--seed must be an integer (got ${values.seed})`);
if (values.trials !== undefined && !(Number(values.trials) > 0)) throw new Error(`--trials must be a positive integer (got ${values.trials})`);

const dir = join(repoRoot, 'test', 'faults');
const files = readdirSync(dir).filter((f) => f.endsWith('.fault.ts') && (!values.only || f.includes(values.only))).sort().map((f) => join(dir, f));
if (files.length === 0) throw new Error(`no fault case matches ${values.only}`);
const resultsFile = join(tmpdir(), `kmsstack-fault-results-${process.pid}.jsonl`);
const replay = `npm run test:faults -- --seed ${seed}${values.trials ? ` --trials ${values.trials}` : ''}`;
console.log(`fault suite: seed ${seed} (replay: ${replay}), ${files.length} case file(s)`);

Object.assign(process.env, {
  KMSSTACK_FAULT_SEED: String(seed),
  KMSSTACK_FAULT_RESULTS: resultsFile,
  ...(values.trials ? { KMSSTACK_FAULT_TRIALS: values.trials } : {}),
});

const started = Date.now();
const failed: string[] = [];
const stream = run({ files, concurrency: 1, execArgv: ['--import', 'tsx'] });
stream.on('test:fail', (event) => {
  // A todo test (a known bug, reported in the table) does not fail the run.
  if (event.todo === undefined || event.todo === false) {
    if (event.nesting === 0 || event.details.type !== 'suite') failed.push(event.name);
  }
});
stream.compose(spec).pipe(process.stdout);
await once(stream, 'end');

const results = existsSync(resultsFile)
  ? readFileSync(resultsFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as FaultResult)
  : [];
rmSync(resultsFile, { force: true });
if (!values.only && !values['no-docs']) {
  const docPath = join(repoRoot, 'docs', 'reliability.md');
  const doc = existsSync(docPath) ? readFileSync(docPath, 'utf8') : '# Reliability\n';
  const rendered = renderResults(results, {
    command: replay, seed, date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    machine: `${cpus().length} CPUs, Node ${process.version}`, durationMs: Date.now() - started, failed: [...new Set(failed)],
  });
  writeFileSync(docPath, replaceResults(doc, rendered));
  console.log(`fault suite: wrote ${results.length} result rows to docs/reliability.md`);
}
console.log(`fault suite: ${failed.length ? `FAILED (${[...new Set(failed)].join('; ')})` : 'passed'} in ${((Date.now() - started) / 1000).toFixed(0)} s; seed ${seed}`);
process.exitCode = failed.length ? 1 : 0;
