// The fault suite's figures: each case records one row per fault (appended as a JSON line to
// $KMSSTACK_FAULT_RESULTS, which the runner reads), and the runner renders them as the table in
// docs/reliability.md between the markers. Rendering is pure so it can be unit-tested.
import { appendFileSync } from 'node:fs';

export interface FaultResult {
  fault: string;
  trials: number;
  /** Trials after which the operator converged (within the case's limit). */
  converged: number;
  /** Time to converge of each converged trial, in ms, measured as `convergedFrom` says. */
  convergeMs: number[];
  /** From when convergence is measured, e.g. "restart of the operator". */
  convergedFrom: string;
  /** What was lost ("nothing" when every check passed). */
  lost: string;
  notes?: string;
}

export const BEGIN_MARKER = '<!-- BEGIN FAULT RESULTS: written by npm run test:faults, do not edit -->';
export const END_MARKER = '<!-- END FAULT RESULTS -->';

/** Records a row (and prints it, so a run's log has the figures even without the runner). */
export function recordResult(result: FaultResult): void {
  console.log(`fault result: ${JSON.stringify(result)}`);
  const file = process.env.KMSSTACK_FAULT_RESULTS;
  if (file) appendFileSync(file, `${JSON.stringify(result)}\n`);
}

/** Records a case of one trial: converged `took` ms after `convergedFrom`, or not at all (undefined). */
export function recordOneTrial(fault: string, convergedFrom: string, took: number | undefined, notes: string): void {
  const converged = took !== undefined;
  recordResult({ fault, trials: 1, converged: converged ? 1 : 0, convergeMs: converged ? [took] : [], convergedFrom, lost: converged ? 'nothing' : 'not converged', notes });
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function summarizeTimes(values: number[]): string {
  if (values.length === 0) return '—';
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)] as number;
  const max = sorted[sorted.length - 1] as number;
  return values.length === 1 ? seconds(max) : `median ${seconds(median)}, max ${seconds(max)}`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export interface RunInfo {
  command: string;
  seed: number;
  date: string;
  machine: string;
  durationMs: number;
  failed: string[];
}

export function renderResults(results: FaultResult[], run: RunInfo): string {
  const rows = results.map((r) =>
    `| ${cell(r.fault)} | ${r.trials} | ${r.converged}/${r.trials} | ${cell(summarizeTimes(r.convergeMs))} (from ${cell(r.convergedFrom)}) | ${cell(r.lost)} | ${cell(r.notes ?? '')} |`);
  return [
    BEGIN_MARKER,
    '',
    `Run of \`${run.command}\` on ${run.date} (${run.machine}), seed ${run.seed}, ${seconds(run.durationMs)} in total.` +
      (run.failed.length ? ` **Failed cases: ${run.failed.map(cell).join('; ')}.**` : ' Every case passed.'),
    '',
    '| fault | trials | converged | time to converge | lost | notes |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    END_MARKER,
  ].join('\n');
}

/** `doc` with the text between the markers replaced (the markers are appended if missing). */
export function replaceResults(doc: string, rendered: string): string {
  const begin = doc.indexOf(BEGIN_MARKER);
  const end = doc.indexOf(END_MARKER);
  if (begin === -1 || end === -1 || end < begin) return `${doc.trimEnd()}\n\n${rendered}\n`;
  return doc.slice(0, begin) + rendered + doc.slice(end + END_MARKER.length);
}
