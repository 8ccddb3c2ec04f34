// A keyed work queue with client-go's semantics: a key is queued at most once (adds while it waits
// are merged), a key handed to a worker is not handed to another until done() (adds meanwhile
// re-queue it once after done), delayed adds keep the earliest due time, and per-key backoff on error.
import { type BackoffOptions, KeyedBackoff } from './backoff.ts';
import { type Clock, systemClock } from './clock.ts';
import { workqueueAdds, workqueueDepth, workqueueRetries, workqueueWait } from './metrics.ts';

/** The longest delay a Node timer can take (about 24.8 days). */
export const MAX_DELAY_MS = 2 ** 31 - 1;

export interface WorkQueueOptions {
  name: string;
  backoff: BackoffOptions;
  clock?: Clock;
}

/** Which keys a worker takes; a worker with a filter leaves other keys to the rest. */
export type KeyFilter = (key: string) => boolean;

interface Delayed {
  due: number;
  handle: unknown;
}

export class WorkQueue {
  readonly name: string;
  private readonly clock: Clock;
  private readonly backoff: KeyedBackoff;
  private readonly ready: string[] = [];
  /** Keys that need processing: waiting in `ready`, or added again while in flight. */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly addedAt = new Map<string, number>();
  private readonly delayed = new Map<string, Delayed>();
  private readonly waiters: Array<{ accept: KeyFilter | undefined; resolve: (key: string | undefined) => void }> = [];
  private readonly idleWaiters: Array<() => void> = [];
  private shuttingDown = false;

  constructor(options: WorkQueueOptions) {
    this.name = options.name;
    this.clock = options.clock ?? systemClock;
    this.backoff = new KeyedBackoff(options.backoff);
  }

  /** Queues `key` now, unless it is already waiting (then this add merges with it). */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.addedAt.set(key, this.clock.now());
    workqueueAdds.inc({ name: this.name });
    if (this.processing.has(key)) return; // done() re-queues it
    this.push(key);
  }

  /** Queues `key` after `ms`; of several pending delayed adds of a key the earliest wins. */
  addAfter(key: string, requestedMs: number): void {
    if (this.shuttingDown) return;
    if (requestedMs <= 0) return this.add(key);
    // Node fires a timer longer than 2^31-1 ms after 1 ms; the periodic resync covers longer waits.
    const ms = Math.min(requestedMs, MAX_DELAY_MS);
    const due = this.clock.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.due <= due) return;
    if (pending) this.clock.clearTimeout(pending.handle);
    const handle = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { due, handle });
  }

  /** Queues `key` after its next backoff delay; returns that delay in ms. */
  addRateLimited(key: string): number {
    const delay = this.backoff.next(key);
    workqueueRetries.inc({ name: this.name });
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets the backoff of `key` (call after it was processed successfully). */
  forget(key: string): void {
    this.backoff.forget(key);
  }

  failures(key: string): number {
    return this.backoff.attempts(key);
  }

  /**
   * The next key to process (marked in flight), or undefined once the queue shuts down. With `accept`,
   * the oldest ready key it accepts; keys it refuses stay in order for other callers.
   */
  get(accept?: KeyFilter): Promise<string | undefined> {
    const index = accept ? this.ready.findIndex(accept) : this.ready.length > 0 ? 0 : -1;
    if (index >= 0) return Promise.resolve(this.take(index));
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push({ accept, resolve }));
  }

  /** Marks `key` processed; if it was added while in flight it is queued again now. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      if (this.shuttingDown) this.dirty.delete(key);
      else this.push(key);
    }
    if (this.processing.size === 0) this.idleWaiters.splice(0).forEach((resolve) => resolve());
  }

  /** Keys ready to be handed out (delayed keys and keys in flight are not counted). */
  get length(): number {
    return this.ready.length;
  }

  get inFlight(): number {
    return this.processing.size;
  }

  isDelayed(key: string): boolean {
    return this.delayed.has(key);
  }

  /** Stops handing out keys: waiting get() calls return undefined, delayed adds are dropped. */
  shutdown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const { handle } of this.delayed.values()) this.clock.clearTimeout(handle);
    this.delayed.clear();
    this.ready.length = 0;
    this.dirty.clear();
    workqueueDepth.set({ name: this.name }, 0);
    this.waiters.splice(0).forEach((waiter) => waiter.resolve(undefined));
    if (this.processing.size === 0) this.idleWaiters.splice(0).forEach((resolve) => resolve());
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Resolves when no key is in flight. */
  drained(): Promise<void> {
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private push(key: string): void {
    const index = this.waiters.findIndex((waiter) => !waiter.accept || waiter.accept(key));
    if (index >= 0) {
      const [waiter] = this.waiters.splice(index, 1);
      waiter?.resolve(this.takeKey(key));
      return;
    }
    this.ready.push(key);
    workqueueDepth.set({ name: this.name }, this.ready.length);
  }

  private take(index: number): string {
    const [key] = this.ready.splice(index, 1) as [string];
    workqueueDepth.set({ name: this.name }, this.ready.length);
    return this.takeKey(key);
  }

  private takeKey(key: string): string {
    this.dirty.delete(key);
    this.processing.add(key);
    const added = this.addedAt.get(key);
    this.addedAt.delete(key);
    if (added !== undefined) workqueueWait.observe({ name: this.name }, (this.clock.now() - added) / 1000);
    return key;
  }
}
