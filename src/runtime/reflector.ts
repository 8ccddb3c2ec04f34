// The list-then-watch loop behind an informer, as client-go's Reflector: list the resource, keep the
// objects by namespace and name, watch from the list's resourceVersion, and
// - resume from the last resourceVersion seen (an event or a bookmark) when a watch ends or fails;
// - list again when the server says that version is gone (410), telling who listens what disappeared;
// - back off after failures, and after watches the server closes at once without an event.
// The transport is injected (list, watch), so the loop is tested without a server; the informer
// supplies client-node's Watch. client-node's ListWatch is not used: it pulls in the generated API
// models (about 6 MiB of the idle operator's memory, docs/benchmarks.md) to copy one string.
import { KeyedBackoff } from './backoff.ts';
import { type Clock, sleep, systemClock } from './clock.ts';
import type { KubeObject } from './kube/resources.ts';

/** A watch that lasted this long before the server closed it was not refused: reconnect at once. */
const HEALTHY_WATCH_MS = 5_000;

export type ReflectorEvent = 'add' | 'update' | 'delete';

export interface ListResult {
  items: readonly KubeObject[];
  resourceVersion: string;
}

/** One watch event as the API server sends it: type ADDED, MODIFIED, DELETED, BOOKMARK or ERROR. */
export type WatchEventHandler = (type: string, object: KubeObject) => void;

/**
 * Starts one watch from `resourceVersion`; resolves once it is established. `ended` is called exactly
 * once when it ends: with an error, or with nothing when the server closed it. `signal` aborts it.
 */
export type StartWatch = (resourceVersion: string, onEvent: WatchEventHandler, ended: (err?: unknown) => void,
  signal: AbortSignal) => Promise<void>;

export interface ReflectorOptions {
  list: () => Promise<ListResult>;
  watch: StartWatch;
  /** Called for every failed list or watch, before the loop waits to retry. */
  onError: (err: unknown, retryInMs: number) => void;
  clock?: Clock;
  backoff?: { baseMs: number; maxMs: number };
}

/** A watch that ended because the server no longer has its resourceVersion: list again. */
function isGone(err: unknown): boolean {
  const e = err as { statusCode?: number; code?: number } | undefined;
  return e?.statusCode === 410 || e?.code === 410;
}

/** client-node's Watch ends a watch that stayed silent past its inactivity timeout so: reconnect at once. */
function isInactivityTimeout(err: unknown): boolean {
  return (err as { name?: string } | undefined)?.name === 'TimeoutError';
}

export class Reflector {
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly listeners: Record<ReflectorEvent, Array<(obj: KubeObject) => void>> = { add: [], update: [],
    delete: [] };
  private readonly clock: Clock;
  private readonly backoff: KeyedBackoff;
  private resourceVersion = '';
  private running: AbortController | undefined;
  private syncedOnce = false;
  private readonly syncWaiters: Array<() => void> = [];

  constructor(private readonly options: ReflectorOptions) {
    this.clock = options.clock ?? systemClock;
    this.backoff = new KeyedBackoff(options.backoff ?? { baseMs: 500, maxMs: 15_000 });
  }

  on(event: ReflectorEvent, callback: (obj: KubeObject) => void): void {
    this.listeners[event].push(callback);
  }

  /** True once a list reached the store and the watch after it was established. */
  get hasSynced(): boolean {
    return this.syncedOnce;
  }

  /** Starts the loop (once); resolves when first synced, or when stopped before that. */
  start(): Promise<void> {
    if (!this.running) {
      const running = new AbortController();
      this.running = running;
      void this.run(running.signal);
    }
    return this.waitForSync();
  }

  private waitForSync(): Promise<void> {
    if (this.syncedOnce || !this.running) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  stop(): void {
    this.running?.abort();
    this.running = undefined;
    this.syncWaiters.splice(0).forEach((resolve) => resolve());
  }

  get(name: string, namespace?: string): KubeObject | undefined {
    return this.objects.get(namespace ?? '')?.get(name);
  }

  list(namespace?: string): KubeObject[] {
    if (namespace) return [...(this.objects.get(namespace)?.values() ?? [])];
    return [...this.objects.values()].flatMap((byName) => [...byName.values()]);
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let delay = 0;
      try {
        if (this.resourceVersion === '') await this.relist();
        const outcome = await this.watchOnce(signal);
        if (outcome.err === undefined) {
          // Closed by the server: at once after a watch that delivered events or ran a while, else a
          // little later each time (a server or proxy that closes every watch at once is not hammered).
          const healthy = outcome.sawEvents || outcome.lastedMs >= HEALTHY_WATCH_MS;
          if (healthy) this.backoff.forget('quiet close');
          delay = healthy ? 0 : this.backoff.next('quiet close');
        } else if (isGone(outcome.err)) {
          this.resourceVersion = '';
        } else if (!isInactivityTimeout(outcome.err)) {
          throw outcome.err;
        }
        this.backoff.forget('failure');
      } catch (err) {
        if (signal.aborted) return;
        delay = this.backoff.next('failure');
        this.options.onError(err, delay);
      }
      if (delay > 0) await sleep(this.clock, delay, signal);
    }
  }

  /** Replaces the store with a fresh list: objects gone since are deleted (with their event). */
  private async relist(): Promise<void> {
    const listed = await this.options.list();
    const present = new Set(listed.items.map((obj) => keyOf(obj).join('/')));
    for (const obj of this.list()) {
      if (!present.has(keyOf(obj).join('/'))) this.remove(obj);
    }
    for (const obj of listed.items) this.upsert(obj);
    this.resourceVersion = listed.resourceVersion;
  }

  private watchOnce(signal: AbortSignal): Promise<{ err?: unknown; sawEvents: boolean; lastedMs: number }> {
    let sawEvents = false;
    const startedAt = this.clock.now();
    const onEvent: WatchEventHandler = (type, object) => {
      const version = object?.metadata?.resourceVersion;
      if (type === 'ERROR') {
        // The server ends the watch after this; a 410 (version too old) means: list again.
        if ((object as { code?: number }).code === 410) this.resourceVersion = '';
        return;
      }
      if (type === 'ADDED' || type === 'MODIFIED') this.upsert(object);
      else if (type === 'DELETED') this.remove(object);
      else if (type !== 'BOOKMARK') return;
      sawEvents = true;
      if (version) this.resourceVersion = version;
    };
    return new Promise((resolve) => {
      let ended = false;
      const end = (err?: unknown) => {
        if (ended) return;
        ended = true;
        watchAbort.abort();
        signal.removeEventListener('abort', abortWatch);
        resolve({ err: err ?? (this.resourceVersion === '' ? { code: 410 } : undefined), sawEvents,
          lastedMs: this.clock.now() - startedAt });
      };
      const watchAbort = new AbortController();
      const abortWatch = () => end();
      if (signal.aborted) return end(); // stopped while listing
      signal.addEventListener('abort', abortWatch, { once: true });
      this.options.watch(this.resourceVersion, onEvent, end, watchAbort.signal).then(() => {
        if (!ended) this.markSynced();
      }, end);
    });
  }

  private markSynced(): void {
    if (this.syncedOnce) return;
    this.syncedOnce = true;
    this.syncWaiters.splice(0).forEach((resolve) => resolve());
  }

  private upsert(obj: KubeObject): void {
    const [namespace, name] = keyOf(obj);
    let byName = this.objects.get(namespace);
    if (!byName) this.objects.set(namespace, byName = new Map());
    const found = byName.get(name);
    const version = obj.metadata.resourceVersion;
    if (found && version !== undefined && found.metadata.resourceVersion === version) return;
    byName.set(name, obj);
    this.emit(found ? 'update' : 'add', obj);
  }

  private remove(obj: KubeObject): void {
    const [namespace, name] = keyOf(obj);
    const byName = this.objects.get(namespace);
    if (!byName?.delete(name)) return;
    if (byName.size === 0) this.objects.delete(namespace);
    this.emit('delete', obj);
  }

  private emit(event: ReflectorEvent, obj: KubeObject): void {
    for (const callback of this.listeners[event]) callback(obj);
  }
}

function keyOf(obj: KubeObject): [string, string] {
  return [obj.metadata.namespace ?? '', obj.metadata.name ?? ''];
}
