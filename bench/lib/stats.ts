// Small pure helpers for the figures the benchmark prints: percentiles, rates and formatting.

/** The p-th percentile (0-100) of `values` by the nearest-rank method; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  if (p < 0 || p > 100) throw new Error(`percentile: p must be within 0..100 (got ${p})`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

export function summarize(latenciesMs: readonly number[]): LatencySummary {
  return {
    count: latenciesMs.length,
    p50Ms: percentile(latenciesMs, 50),
    p95Ms: percentile(latenciesMs, 95),
    maxMs: latenciesMs.length ? Math.max(...latenciesMs) : Number.NaN,
  };
}

/** Milliseconds as seconds with a precision that suits the size ("0.042 s", "3.1 s", "124 s"). */
export function seconds(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  const s = ms / 1000;
  if (s < 1) return `${s.toFixed(3)} s`;
  if (s < 100) return `${s.toFixed(1)} s`;
  return `${Math.round(s)} s`;
}

export function mebibytes(bytes: number | undefined): string {
  return bytes === undefined || !Number.isFinite(bytes) ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function ratio(numerator: number, denominator: number): string {
  return denominator > 0 && Number.isFinite(numerator)
    ? numerator / denominator < 10 ? (numerator / denominator).toFixed(2) : (numerator / denominator).toFixed(1)
    : 'n/a';
}

/** Runs `work` over `items` with at most `concurrency` calls in flight; results keep the input order. */
export async function mapPool<T, R>(items: readonly T[], concurrency: number,
  work: (item: T, index: number) => Promise<R>): Promise<R[]>
{
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error(`mapPool: concurrency must be a whole number >= 1 (got ${concurrency})`);
  }
  const results = new Array<R>(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  });
  await Promise.all(runners);
  return results;
}
