// The informer caches the operator reads from: one informer per watched kind (and per namespace when
// the operator watches a list of namespaces). Owned kinds are narrowed by the managed-by label.
import type { Clock } from './clock.ts';
import { Informer, type InformerEvent } from './informer.ts';
import type { KubeClient } from './kube/client.ts';
import { resources, type KnownKind, type KubeObject } from './kube/resources.ts';
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
}

export interface WatchSpec {
  kind: KnownKind;
  labelSelector?: string;
}

export type CacheListener = (kind: KnownKind, event: InformerEvent, obj: KubeObject) => void;

export class ClusterCache implements ObjectReader {
  private readonly informers = new Map<KnownKind, Map<string, Informer>>();
  private readonly listeners: CacheListener[] = [];

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
          client, type: resources[watch.kind], logger,
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
    return objects.filter((obj) => Object.entries(labels).every(([key, value]) => obj.metadata.labels?.[key] === value));
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

  private *allInformers(): Iterable<Informer> {
    for (const byNamespace of this.informers.values()) yield* byNamespace.values();
  }
}
