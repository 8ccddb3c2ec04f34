// Time as a dependency, so queue, backoff and leader election can be tested without waiting.

export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    handle.unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Resolves after `ms` on `clock`, or at once when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clock.clearTimeout(handle);
      resolve();
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The one jitter of the operator, client-go's wait.Jitter: `ms` plus up to `factor` × `ms` more, so
 * that many waiters (candidates for a lease, deployments retrying a Vault call) do not act in
 * lockstep. `random` is in [0, 1); tests pass a fixed one.
 */
export function jitter(ms: number, factor: number, random: number = Math.random()): number {
  return ms + random * factor * ms;
}
