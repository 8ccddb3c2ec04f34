// An informer (list + watch + cache) for one resource type: a Reflector (the list-then-watch loop,
// reflector.ts) fed by this client's list and by client-node's Watch, which streams the events with
// the kubeconfig's authentication. A failed list or watch is logged, counted and retried with backoff.
import { Watch } from '@kubernetes/client-node';
import type { Clock } from './clock.ts';
import type { KubeClient } from './kube/client.ts';
import { type KubeObject, resourcePath, type ResourceType } from './kube/resources.ts';
import type { Logger } from './logger.ts';
import { watchRestarts } from './metrics.ts';
import { Reflector, type StartWatch } from './reflector.ts';

export type InformerEvent = 'add' | 'update' | 'delete';

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
  private readonly reflector: Reflector;

  constructor(options: InformerOptions) {
    this.type = options.type;
    this.namespace = options.namespace;
    const logger = options.logger.child({ resource: options.type.plural, namespace: options.namespace ?? '*' });
    const { client, type, namespace, labelSelector, fieldSelector } = options;
    const transform = options.transform ?? cachedForm;
    const selectors = { ...(labelSelector === undefined ? {} : { labelSelector }),
      ...(fieldSelector === undefined ? {} : { fieldSelector }) };
    const list = async () => {
      const listed = await client.list(type, namespace, selectors);
      return { items: listed.items.map(transform), resourceVersion: listed.metadata?.resourceVersion ?? '' };
    };
    this.reflector = new Reflector({
      list,
      watch: watchWith(new Watch(client.kubeConfig), resourcePath(type, namespace), selectors, transform),
      onError: (err, retryInMs) => {
        watchRestarts.inc({ resource: type.plural });
        logger.warn({ err: describeError(err), retryInMs }, 'watch failed; restarting');
      },
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.restartBackoff ? { backoff: options.restartBackoff } : {}),
    });
  }

  on(event: InformerEvent, callback: (obj: KubeObject) => void): void {
    this.reflector.on(event, callback);
  }

  get hasSynced(): boolean {
    return this.reflector.hasSynced;
  }

  /** Starts listing and watching; resolves once the cache holds a complete list (retrying as needed). */
  start(): Promise<void> {
    return this.reflector.start();
  }

  stop(): Promise<void> {
    this.reflector.stop();
    return Promise.resolve();
  }

  get(name: string, namespace?: string): KubeObject | undefined {
    return this.reflector.get(name, namespace);
  }

  list(namespace?: string): readonly KubeObject[] {
    return this.reflector.list(namespace);
  }
}

/** Watches over client-node's Watch: objects reach the store in their cached form, failures through `ended`. */
function watchWith(watch: Watch, path: string, selectors: { labelSelector?: string; fieldSelector?: string },
  transform: (obj: KubeObject) => KubeObject): StartWatch
{
  return async (resourceVersion, onEvent, ended, signal) => {
    // Bookmarks move the resourceVersion on while nothing changes, so a reconnect rarely needs a new list.
    const query = { ...selectors, resourceVersion, allowWatchBookmarks: true };
    const controller = await watch.watch(path, query,
      (type, object) => onEvent(type, type === 'ERROR' ? object as KubeObject : transform(object as KubeObject)),
      (err) => ended(err ?? undefined));
    if (signal.aborted) controller.abort();
    else signal.addEventListener('abort', () => controller.abort(), { once: true });
  };
}

function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ? `${err.message} (${cause.code})` : err.message;
  }
  return String(err);
}
