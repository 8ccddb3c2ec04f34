// How a controller is registered with the Manager, after controller-runtime's builder: the kind it is
// For (its own events and the resync enqueue the object's key), the kinds it Owns (an event on a child
// enqueues the owner named in its ownerReferences), and what Completes it (a reconciler built once the
// manager's client, cache and event recorder exist). The runtime knows no controller; main.ts
// registers them.
import type { ObjectReader } from './cache.ts';
import type { Reconciler } from './controller.ts';
import type { EventSink } from './events.ts';
import type { KubeClient } from './kube/client.ts';
import type { KnownKind } from './kube/resources.ts';

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

export interface ControllerRegistration {
  /** Names the work queue, its metrics and log lines. */
  name: string;
  for: KnownKind;
  owns: readonly KnownKind[];
  /** Narrows the caches of owned kinds to the objects this operator made (a label selector). */
  ownedSelector: string | undefined;
  build(parts: ManagerParts): BuiltController;
}

/** A controller for `kind`: `controllerFor('X').owns(['Secret'], 'managed-by=me').complete('x', build)`. */
export function controllerFor(kind: KnownKind) {
  let owned: readonly KnownKind[] = [];
  let selector: string | undefined;
  const builder = {
    owns(kinds: readonly KnownKind[], labelSelector?: string) {
      owned = kinds;
      selector = labelSelector;
      return builder;
    },
    complete(name: string, build: (parts: ManagerParts) => BuiltController): ControllerRegistration {
      return { name, for: kind, owns: owned, ownedSelector: selector, build };
    },
  };
  return builder;
}
