// The fault suite's table renderer (pure): rows, times, failure line, and the replacement between
// the markers of docs/reliability.md that keeps the hand-written text around it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BEGIN_MARKER, END_MARKER, renderResults, replaceResults, summarizeTimes, type RunInfo } from './results.ts';

const run: RunInfo = { command: 'npm run test:faults -- --seed 7', seed: 7, date: '2026-01-01 10:00 UTC', machine: '2 CPUs, Node v24', durationMs: 61_000, failed: [] };

test('times are summarized as median and max, one value as itself', () => {
  assert.equal(summarizeTimes([]), '—');
  assert.equal(summarizeTimes([1500]), '1.5 s');
  assert.equal(summarizeTimes([3000, 1000, 2000, 9000]), 'median 2.0 s, max 9.0 s');
});

test('renders one row per result between the markers, escaping table syntax', () => {
  const text = renderResults([
    { fault: 'a | b', trials: 3, converged: 2, convergeMs: [1000, 2000], convergedFrom: 'restart', lost: 'nothing', notes: 'x\ny' },
  ], run);
  assert.ok(text.startsWith(BEGIN_MARKER) && text.endsWith(END_MARKER));
  assert.match(text, /seed 7, 61\.0 s in total\. Every case passed\./);
  assert.match(text, /\| a \\\| b \| 3 \| 2\/3 \| median 1\.0 s, max 2\.0 s \(from restart\) \| nothing \| x y \|/);
  assert.match(renderResults([], { ...run, failed: ['case x'] }), /\*\*Failed cases: case x\.\*\*/);
});

test('replaces only the text between the markers, or appends them', () => {
  const doc = `# Title\n\nbefore\n\n${BEGIN_MARKER}\nold\n${END_MARKER}\n\nafter\n`;
  const replaced = replaceResults(doc, `${BEGIN_MARKER}\nnew\n${END_MARKER}`);
  assert.equal(replaced, `# Title\n\nbefore\n\n${BEGIN_MARKER}\nnew\n${END_MARKER}\n\nafter\n`);
  assert.equal(replaceResults('# T\n', 'X'), '# T\n\nX\n');
});
