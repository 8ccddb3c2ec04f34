// An informer (list + watch + cache) for one resource type, built on @kubernetes/client-node's
// ListWatch. ListWatch relists on 410 Gone and reconnects after a clean close, but after a watch
// error it stops for good; this wrapper restarts it with exponential backoff and counts restarts.
// ListWatch reconnects from inside the previous watch's done callback and awaits Watch.watch()
// there, where nobody awaits ListWatch in turn: if watch() rejects (it does when the credentials
// cannot be obtained: a failing exec plugin, an unreadable token file), the rejection is unhandled
// and Node ends the process. ReportingWatch turns that rejection into the done(err) callback, so it
// takes the ordinary error path: logged, counted, restarted with backoff.
import { type KubernetesObject, ListWatch, Watch } from '@kubernetes/client-node';
import { KeyedBackoff } from './backoff.ts';
import { type Clock, systemClock } from './clock.ts';
import type { KubeClient } from './kube/client.ts';
import { type KubeObject, resourcePath, type ResourceType } from './kube/resources.ts';
import type { Logger } from './logger.ts';
import { watchRestarts } from './metrics.ts';

export type InformerEvent = 'add' | 'update' | 'delete';

type WatchArgs = Parameters<Watch['watch']>;

/**
 * What a cache keeps of an object: all of it but metadata.managedFields, which records the owner of
 * every field (often the largest part of an object applied server-side) and which no reconcile reads.
 */
export function cachedForm<T extends KubeObject>(obj: T): T {
  if (obj?.metadata?.managedFields === undefined) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/**
 * An object reduced to its identity (kind, name, namespace, uid, resourceVersion, labels, annotations
 * minus the last-applied copy): for watches that only need to know that an object changed, so that
 * the cache holds no data (a Secret's keys never enter the operator's memory through it).
 */
export function metadataOnly<T extends KubeObject>(obj: T): T {
  const { name, namespace, uid, resourceVersion, labels, annotations } = obj.metadata ?? {};
  const { 'kubectl.kubernetes.io/last-applied-configuration': _dropped, ...kept } = annotations ?? {};
  const metadata = Object.fromEntries(
    Object.entries({ name, namespace, uid, resourceVersion, labels, annotations: annotations && kept }).filter((
      [, v],
    ) => v !== undefined),
  );
  return { apiVersion: obj.apiVersion, kind: obj.kind, metadata } as T;
}

/**
 * A Watch whose failures all arrive through `done`, never as a rejected promise, and whose objects
 * reach the cache in their cached form (cachedForm, or the informer's own transform).
 */
export class ReportingWatch extends Watch {
  constructor(config: ConstructorParameters<typeof Watch>[0],
    private readonly transform: (obj: KubeObject) => KubeObject = cachedForm)
  {
    super(config);
  }

  override async watch(path: WatchArgs[0], queryParams: WatchArgs[1], callback: WatchArgs[2],
    done: WatchArgs[3]): Promise<AbortController>
  {
    const slimmed: WatchArgs[2] = (phase, apiObj, watchObj) =>
      callback(phase, this.transform(apiObj as KubeObject), watchObj);
    try {
      return await super.watch(path, queryParams, slimmed, done);
    } catch (err) {
      // Watch.watch calls done itself for every failure after the request was built, so this is the only call.
      done(err);
      return new AbortController();
    }
  }
}

export interface InformerOptions {
  client: KubeClient;
  type: ResourceType;
  /** undefined = all namespaces. */
  namespace?: string;
  labelSelector?: string;
  /** A field selector, e.g. type=kubernetes.io/tls for Secrets. */
  fieldSelector?: string;
  /** What the cache keeps of each object; default cachedForm. metadataOnly keeps nothing but the metadata. */
  transform?: (obj: KubeObject) => KubeObject;
  logger: Logger;
  clock?: Clock;
  restartBackoff?: { baseMs: number; maxMs: number };
}

export class Informer {
  readonly type: ResourceType;
  readonly namespace: string | undefined;
  // ListWatch's object type is client-node's typed KubernetesObject; the JSON it holds is our KubeObject.
  private readonly listWatch: ListWatch<KubernetesObject>;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly backoff: KeyedBackoff;
  private attempt = 0;
  private failedAttempt = -1;
  private restartTimer: unknown;
  private stopped = true;
  private synced = false;
  private readonly syncWaiters: Array<() => void> = [];

  constructor(options: InformerOptions) {
    this.type = options.type;
    this.namespace = options.namespace;
    this.logger = options.logger.child({ resource: options.type.plural, namespace: options.namespace ?? '*' });
    this.clock = options.clock ?? systemClock;
    this.backoff = new KeyedBackoff(options.restartBackoff ?? { baseMs: 500, maxMs: 15_000 });
    const { client, type, namespace, labelSelector, fieldSelector } = options;
    const transform = options.transform ?? cachedForm;
    const list = async () => {
      const listed = await client.list(type, namespace, { ...(labelSelector === undefined ? {} : { labelSelector }),
        ...(fieldSelector === undefined ? {} : { fieldSelector }) });
      return { ...listed, items: listed.items.map(transform) } as unknown as { items: KubernetesObject[];
        metadata: { resourceVersion?: string } };
    };
    this.listWatch = new ListWatch<KubernetesObject>(resourcePath(type, namespace),
      new ReportingWatch(client.kubeConfig, transform), list, false, labelSelector, fieldSelector);
    this.listWatch.on('error', (err: unknown) => this.onError(err));
  }

  on(event: InformerEvent, callback: (obj: KubeObject) => void): void {
    this.listWatch.on(event, (obj) => callback(obj as unknown as KubeObject));
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /** Starts listing and watching; resolves once the cache holds a complete list (retrying as needed). */
  start(): Promise<void> {
    if (this.stopped) {
      this.stopped = false;
      void this.connect();
    }
    return this.waitForSync();
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer !== undefined) this.clock.clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    await this.listWatch.stop();
    this.syncWaiters.splice(0).forEach((resolve) => resolve());
  }

  get(name: string, namespace?: string): KubeObject | undefined {
    return this.listWatch.get(name, namespace) as unknown as KubeObject | undefined;
  }

  list(namespace?: string): readonly KubeObject[] {
    return this.listWatch.list(namespace) as unknown as readonly KubeObject[];
  }

  private async connect(): Promise<void> {
    const attempt = ++this.attempt;
    try {
      await this.listWatch.start();
    } catch (err) {
      this.onError(err);
      return;
    }
    if (this.failedAttempt === attempt || this.stopped) return;
    this.backoff.forget('watch');
    if (!this.synced) {
      this.synced = true;
      this.logger.debug('cache synced');
      this.syncWaiters.splice(0).forEach((resolve) => resolve());
    }
  }

  private onError(err: unknown): void {
    this.failedAttempt = this.attempt;
    if (this.stopped || this.restartTimer !== undefined) return;
    const delay = this.backoff.next('watch');
    watchRestarts.inc({ resource: this.type.plural });
    this.logger.warn({ err: describeError(err), retryInMs: delay }, 'watch failed; restarting');
    this.restartTimer = this.clock.setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopped) void this.connect();
    }, delay);
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ? `${err.message} (${cause.code})` : err.message;
  }
  return String(err);
}
