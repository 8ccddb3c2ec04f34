// The table of `npm run bench:chain` (bench/chain.ts): per round, p50 / max over the objects of each
// time it measured. Pure.
import type { ChainRound, ObjectTimes } from './chain-round.ts';
import { percentile, seconds } from './stats.ts';

/** "p50 / max" of one figure over a round's objects, naming how many objects never got there. */
function p50max(round: ChainRound, figure: (o: ObjectTimes) => number | undefined): string {
  const values = round.objects.map(figure).filter((v): v is number => v !== undefined);
  const missing = round.objects.length - values.length;
  if (values.length === 0) return 'not reached';
  return `${seconds(percentile(values, 50))} / ${seconds(Math.max(...values))}${
    missing ? ` (${missing} not reached)` : ''
  }`;
}

export function chainTable(rounds: ChainRound[]): string {
  // The conditions in the order they turned True in the largest round (by median time), Ready last.
  const largest = rounds.at(-1)!;
  const types = [...new Set(rounds.flatMap((r) => r.objects.flatMap((o) => Object.keys(o.conditionTrueMs))))].filter((
    t,
  ) => t !== 'Ready');
  const median = (type: string) =>
    percentile(largest.objects.map((o) => o.conditionTrueMs[type]).filter((v): v is number => v !== undefined), 50);
  types.sort((a, b) => (median(a) || Infinity) - (median(b) || Infinity));
  const rows: [string, (r: ChainRound) => string][] = [
    ...types.map((
      type,
    ): [string, (r: ChainRound) => string] => [`create → ${type} True`,
      (r) => p50max(r, (o) => o.conditionTrueMs[type])]
    ),
    ['**create → Ready**', (r) => `**${p50max(r, (o) => o.conditionTrueMs.Ready)}**`],
    ['renewal: patch → new KES server certificate', (r) => p50max(r, (o) => o.rotation.reissuedMs)],
    ['renewal: patch → every KES Pod runs it', (r) => p50max(r, (o) => o.rotation.kesRolledMs)],
    ['renewal: patch → every MinIO Pod runs it', (r) => p50max(r, (o) => o.rotation.minioRolledMs)],
    ['**renewal: patch → both rolled and Ready**', (r) => `**${p50max(r, (o) => o.rotation.readyAgainMs)}**`],
    ['SSE-S3 PUT + GET per object', (r) => {
      const ok = r.objects.filter((o) => o.s3?.startsWith('AES256, read back identical')).length;
      return `${ok} of ${r.n} encrypted (AES256) and read back${
        ok < r.n
          ? `; ${
            r.objects.filter((o) => !o.s3?.startsWith('AES256, read back identical')).map((o) =>
              `${o.namespace}: ${o.s3 ?? 'not tried'}`
            ).join('; ')
          }`
          : ''
      }`;
    }],
    ['load average (1 min): start / max / end',
      (r) => `${r.load.start.toFixed(1)} / ${r.load.max.toFixed(1)} / ${r.load.end.toFixed(1)}`],
  ];
  return [
    `| measure (p50 / max over the objects) | ${rounds.map((r) => `N = ${r.n}`).join(' | ')} |`,
    `|---|${rounds.map(() => '---').join('|')}|`,
    ...rows.map(([label, cell]) => `| ${label} | ${rounds.map(cell).join(' | ')} |`),
  ].join('\n');
}
