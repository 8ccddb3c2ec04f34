// How a controller is registered with the Manager, after controller-runtime's builder: the kind it is
// For (its own events and the resync enqueue the object's key), the kinds it Owns (an event on a child
// enqueues the owner named in its ownerReferences), the other objects it Watches (an event enqueues the
// keys a map function names, as controller-runtime's Watches(..., EnqueueRequestsFromMapFunc)), and
// what Completes it (a reconciler built once the
// manager's client, cache and event recorder exist). The runtime knows no controller; main.ts
// registers them.
import type { ObjectReader } from './cache.ts';
import type { Reconciler } from './controller.ts';
import type { EventSink } from './events.ts';
import type { KubeClient } from './kube/client.ts';
import type { KnownKind, KubeObject } from './kube/resources.ts';

/** What the manager hands a controller when it builds it. */
export interface ManagerParts {
  kube: KubeClient;
  cache: ObjectReader;
  events: EventSink;
}

/** What a registered controller runs: its reconciler and anything it started that must stop with the manager. */
export interface BuiltController {
  reconcile: Reconciler;
  /** A reconcile that took at least this long marks its key slow (see ControllerOptions.slowReconcileMs). */
  slowReconcileMs?: number;
  /** The controller's own shutdown, called when the manager stops. */
  stop?: () => void;
}

/**
 * Objects a controller does not own but reads (a user's Secret its spec names): an event on one enqueues
 * the keys `map` returns. The watch keeps only each object's metadata (informer.ts metadataOnly), in
 * caches of their own, so their data never enters the operator's memory; narrow it with a field selector.
 */
export interface WatchRegistration {
  kind: KnownKind;
  fieldSelector?: string;
  /** The keys (namespace/name of the controller's kind) to reconcile when `obj` changes; reads the caches. */
  map(obj: KubeObject, cache: ObjectReader): string[];
}

export interface ControllerRegistration {
  /** Names the work queue, its metrics and log lines. */
  name: string;
  for: KnownKind;
  owns: readonly KnownKind[];
  /** Narrows the caches of owned kinds to the objects this operator made (a label selector). */
  ownedSelector: string | undefined;
  watches: readonly WatchRegistration[];
  build(parts: ManagerParts): BuiltController;
}

/** A controller for `kind`: `controllerFor('X').owns(['Secret'], 'managed-by=me').complete('x', build)`. */
export function controllerFor(kind: KnownKind) {
  let owned: readonly KnownKind[] = [];
  let selector: string | undefined;
  const watches: WatchRegistration[] = [];
  const builder = {
    owns(kinds: readonly KnownKind[], labelSelector?: string) {
      owned = kinds;
      selector = labelSelector;
      return builder;
    },
    watches(watch: WatchRegistration) {
      watches.push(watch);
      return builder;
    },
    complete(name: string, build: (parts: ManagerParts) => BuiltController): ControllerRegistration {
      return { name, for: kind, owns: owned, ownedSelector: selector, watches, build };
    },
  };
  return builder;
}
