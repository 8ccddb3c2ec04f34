// Go-style durations as the API accepts them ("5m", "1h30m", "20s"): integer amounts with the units
// CEL's duration() understands. Parsed to milliseconds (sub-millisecond parts are kept as fractions).

const unitMs: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, ns: 0.000_001 };
const whole = /^([0-9]+(ns|us|ms|s|m|h))+$/;
const part = /([0-9]+)(ns|us|ms|s|m|h)/g;

/** Milliseconds in `text`, or undefined when it is not a duration of the API's format. */
export function parseDuration(text: string): number | undefined {
  if (!whole.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(part)) total += Number(amount) * (unitMs[unit as string] ?? Number.NaN);
  return Number.isFinite(total) ? total : undefined;
}

/** The milliseconds of a duration the schema already checked (as parseDuration gives them); throws on anything else. */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`not a duration: ${JSON.stringify(text)}`);
  return ms;
}

/** Renders milliseconds back as a duration string (e.g. 5400000 -> "1h30m"); used for Vault TTLs. */
export function formatDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0) throw new Error(`cannot render ${ms}ms as a duration`);
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}
