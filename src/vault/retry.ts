// Retries of one Vault call: only for failures that can pass by themselves (network, 5xx), with
// capped exponential backoff and full jitter so many deployments do not retry in lockstep.
import { setTimeout as sleepMs } from 'node:timers/promises';
import { jitter } from '../runtime/clock.ts';
import type { VaultRequestError } from './errors.ts';

export interface RetryPolicy {
  /** Total attempts including the first (1 = no retry). */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 200, maxDelayMs: 2000 };

/** Delay before attempt `attempt + 1` (attempt counts from 1); `random` in [0, 1). */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  // Equal jitter: at least half the ceiling, at most all of it.
  return Math.floor(jitter(ceiling / 2, 1, random));
}

export interface RetryHooks {
  sleep?: (ms: number) => Promise<unknown>;
  random?: () => number;
}

/** Runs `call` until it succeeds, fails with a non-retryable error, or attempts run out. */
export async function withRetry<T>(call: () => Promise<T>, policy: RetryPolicy, hooks: RetryHooks = {}): Promise<T> {
  const sleep = hooks.sleep ?? sleepMs;
  const random = hooks.random ?? Math.random;
  for (let attempt = 1;; attempt++) {
    try {
      return await call();
    } catch (err) {
      const retryable = (err as Partial<VaultRequestError>).retryable === true;
      if (!retryable || attempt >= policy.attempts) throw err;
      await sleep(backoffDelayMs(attempt, policy, random()));
    }
  }
}
