// Per-key exponential backoff, as client-go's ItemExponentialFailureRateLimiter: the n-th consecutive
// failure of a key waits base * 2^(n-1), capped at max; forget() resets the key after a success.

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export class KeyedBackoff {
  private readonly failures = new Map<string, number>();

  constructor(private readonly options: BackoffOptions) {
    if (!(options.baseMs > 0) || !(options.maxMs >= options.baseMs)) {
      throw new Error(`backoff: need 0 < base (${options.baseMs}ms) <= max (${options.maxMs}ms)`);
    }
  }

  /** Records one more failure of `key` and returns how long to wait before retrying it. */
  next(key: string): number {
    const attempts = this.failures.get(key) ?? 0;
    this.failures.set(key, attempts + 1);
    // 2^attempts overflows to Infinity for large counts, which Math.min caps as intended.
    return Math.min(this.options.baseMs * 2 ** attempts, this.options.maxMs);
  }

  attempts(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}
