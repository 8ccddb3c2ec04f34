// The informer caches the operator reads from: one informer per watched kind (and per namespace when
// the operator watches a list of namespaces). Owned kinds are narrowed by the managed-by label.
import type { Clock } from './clock.ts';
import { Informer, type InformerEvent } from './informer.ts';
import type { KubeClient, WriteListener } from './kube/client.ts';
import { type KnownKind, type KubeObject, resources } from './kube/resources.ts';
import type { Logger } from './logger.ts';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'kmsstack-operator';
export const INSTANCE_LABEL = 'app.kubernetes.io/instance';

/** Read access to the caches; what reconcile steps get. */
export interface ObjectReader {
  get(kind: KnownKind, namespace: string, name: string): KubeObject | undefined;
  /** Objects of `kind` in `namespace` whose labels include all of `labels`. */
  list(kind: KnownKind, namespace: string, labels?: Record<string, string>): KubeObject[];
  /** Every cached object of `kind`, across the watched namespaces. */
  listAll(kind: KnownKind): KubeObject[];
  /**
   * `{ object }` (undefined when absent) if the cache is known to be as new as this process's last
   * write of that object; undefined when it is not, or the cache cannot tell (read the API server then).
   */
  fresh?(kind: KnownKind, namespace: string, name: string): { object: KubeObject | undefined } | undefined;
}

/**
 * The object as of this process's last write of it (read-your-writes): from the cache when the cache
 * has caught up with that write, else from the API server. For reads where a stale object would make
 * a reconcile redo work (issue a new CA, destroy a secret-id issued a moment ago); in the steady state
 * every such read is a cache hit.
 */
export async function readFresh(reader: ObjectReader, kube: Pick<KubeClient, 'get'>, kind: KnownKind, namespace: string,
  name: string): Promise<KubeObject | undefined>
{
  const cached = reader.fresh?.(kind, namespace, name);
  if (cached) return cached.object;
  return kube.get(resources[kind], namespace, name);
}

export interface WatchSpec {
  kind: KnownKind;
  labelSelector?: string;
}

export type CacheListener = (kind: KnownKind, event: InformerEvent, obj: KubeObject) => void;

/** What this process last wrote of one object: in flight (or failed), written at a resourceVersion, or deleted. */
type LastWrite = { state: 'writing' } | { state: 'written'; resourceVersion: string } | { state: 'deleted';
  uid: string | undefined };

export class ClusterCache implements ObjectReader {
  private readonly informers = new Map<KnownKind, Map<string, Informer>>();
  private readonly listeners: CacheListener[] = [];
  /** Writes of watched objects the cache has not caught up with yet (usually a few; empty when idle). */
  private readonly lastWrites = new Map<string, LastWrite>();

  /** `namespaces` empty = all namespaces (one cluster-wide informer per kind). */
  constructor(
    client: KubeClient,
    watches: readonly WatchSpec[],
    private readonly namespaces: readonly string[],
    logger: Logger,
    clock?: Clock,
  ) {
    const scopes = namespaces.length === 0 ? [undefined] : namespaces;
    for (const watch of watches) {
      const byNamespace = new Map<string, Informer>();
      for (const namespace of scopes) {
        const informer = new Informer({
          client,
          type: resources[watch.kind],
          logger,
          ...(namespace === undefined ? {} : { namespace }),
          ...(watch.labelSelector === undefined ? {} : { labelSelector: watch.labelSelector }),
          ...(clock === undefined ? {} : { clock }),
        });
        for (const event of ['add', 'update', 'delete'] as const) {
          informer.on(event, (obj) => this.listeners.forEach((listener) => listener(watch.kind, event, obj)));
        }
        byNamespace.set(namespace ?? '*', informer);
      }
      this.informers.set(watch.kind, byNamespace);
    }
    client.onWrite(this.writeTracker());
    this.onEvent((kind, _event, obj) => {
      const key = writeKey(kind, obj.metadata.namespace, obj.metadata.name ?? '');
      if (this.lastWrites.has(key) && this.fresh(kind, obj.metadata.namespace ?? '', obj.metadata.name ?? '')) {
        this.lastWrites.delete(key);
      }
    });
  }

  fresh(kind: KnownKind, namespace: string, name: string): { object: KubeObject | undefined } | undefined {
    const object = this.get(kind, namespace, name);
    const last = this.lastWrites.get(writeKey(kind, namespace, name));
    // Not written by this process since it started: the cache, listed after the start, has it if it
    // has our labels; an object that is not cached may still exist without them.
    if (!last) return object ? { object } : undefined;
    if (last.state === 'writing') return undefined;
    if (last.state === 'deleted') return object && object.metadata.uid === last.uid ? undefined : { object };
    return object && atLeast(object.metadata.resourceVersion, last.resourceVersion) ? { object } : undefined;
  }

  private writeTracker(): WriteListener {
    const watched = (kind: string): kind is KnownKind => this.informers.has(kind as KnownKind);
    return {
      writing: (kind, namespace, name) => {
        if (watched(kind)) this.lastWrites.set(writeKey(kind, namespace, name), { state: 'writing' });
      },
      written: (obj) => {
        const { kind = '', metadata } = obj;
        if (watched(kind) && metadata.resourceVersion) {
          this.lastWrites.set(writeKey(kind, metadata.namespace, metadata.name ?? ''), { state: 'written',
            resourceVersion: metadata.resourceVersion });
        }
      },
      deleted: (kind, namespace, name, uid) => {
        if (watched(kind)) this.lastWrites.set(writeKey(kind, namespace, name), { state: 'deleted', uid });
      },
    };
  }

  onEvent(listener: CacheListener): void {
    this.listeners.push(listener);
  }

  /** Starts every informer and resolves when all caches have synced. */
  async start(): Promise<void> {
    await Promise.all([...this.allInformers()].map((informer) => informer.start()));
  }

  get hasSynced(): boolean {
    return [...this.allInformers()].every((informer) => informer.hasSynced);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.allInformers()].map((informer) => informer.stop()));
  }

  watchesNamespace(namespace: string): boolean {
    return this.namespaces.length === 0 || this.namespaces.includes(namespace);
  }

  get(kind: KnownKind, namespace: string, name: string): KubeObject | undefined {
    return this.informerFor(kind, namespace)?.get(name, namespace);
  }

  list(kind: KnownKind, namespace: string, labels: Record<string, string> = {}): KubeObject[] {
    const objects = this.informerFor(kind, namespace)?.list(namespace) ?? [];
    return objects.filter((obj) =>
      Object.entries(labels).every(([key, value]) => obj.metadata.labels?.[key] === value)
    );
  }

  /** Every cached object of `kind`, across the watched namespaces. */
  listAll(kind: KnownKind): KubeObject[] {
    return [...(this.informers.get(kind)?.values() ?? [])].flatMap((informer) => [...informer.list()]);
  }

  isWatched(kind: KnownKind): boolean {
    return this.informers.has(kind);
  }

  private informerFor(kind: KnownKind, namespace: string): Informer | undefined {
    const byNamespace = this.informers.get(kind);
    if (!byNamespace) throw new Error(`${kind} is not watched: reads of it cannot come from the cache`);
    return byNamespace.get('*') ?? byNamespace.get(namespace);
  }

  /** Writes the cache has not caught up with yet (for tests and metrics). */
  get pendingWrites(): number {
    return this.lastWrites.size;
  }

  private *allInformers(): Iterable<Informer> {
    for (const byNamespace of this.informers.values()) yield* byNamespace.values();
  }
}

function writeKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

/**
 * Whether resourceVersion `seen` is at least `wanted`. Both are etcd revisions in practice, and the
 * API server lets clients compare them (KEP-5504); anything not a decimal number compares only as equal.
 */
function atLeast(seen: string | undefined, wanted: string): boolean {
  if (seen === undefined) return false;
  if (seen === wanted) return true;
  return /^\d+$/.test(seen) && /^\d+$/.test(wanted) &&
    (seen.length !== wanted.length ? seen.length > wanted.length : seen > wanted);
}
