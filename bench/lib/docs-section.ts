// Writes a benchmark's results into docs/benchmarks.md between its two marker comments, leaving the
// rest of the page (the prose around the figures) as it is.
import { readFileSync, writeFileSync } from 'node:fs';

export function writeMarkedSection(file: string, begin: string, end: string, section: string): void {
  const text = readFileSync(file, 'utf8');
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${file} has no ${begin} ... ${end} markers`);
  writeFileSync(file, `${text.slice(0, from + begin.length)}\n${section}\n${text.slice(to)}`);
}
