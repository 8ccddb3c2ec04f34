// Summarises a V8 heap snapshot (e.g. one `npm run bench -- --heap-snapshot --keep-logs` kept):
// retained and self size by constructor, self size by retainer path, the largest retainers.
//   npm exec -- node --max-old-space-size=4096 --import tsx bench/heap.ts FILE.heapsnapshot
import { readFileSync } from 'node:fs';
import { formatHeapSummary, summarizeHeapSnapshot } from './lib/heap-snapshot.ts';

const file = process.argv[2];
if (!file) throw new Error('usage: bench/heap.ts FILE.heapsnapshot');
console.log(
  formatHeapSummary(summarizeHeapSnapshot(JSON.parse(readFileSync(file, 'utf8')), Number(process.argv[3] ?? 25))),
);
