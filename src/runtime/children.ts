// The objects a reconcile wants to exist for one owner ("children"), and how they reach the cluster:
// each is stamped with the operator's labels and a controller ownerReference, applied with server-side
// apply only when the cached live object differs, and children that are no longer wanted are pruned.
import type { ObjectReader } from './cache.ts';
import { INSTANCE_LABEL, MANAGED_BY, MANAGED_BY_LABEL } from './cache.ts';
import type { EventSink } from './events.ts';
import type { KubeClient } from './kube/client.ts';
import { ownedKinds, resources, type KubeObject, type OwnedKind, type OwnerReference } from './kube/resources.ts';
import type { Logger } from './logger.ts';
import { findDifference } from './subset.ts';

export const PART_OF_LABEL = 'app.kubernetes.io/part-of';

/** The labels every child of `owner` carries; pruning finds children by them. */
export function childLabels(owner: KubeObject): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGED_BY, [INSTANCE_LABEL]: owner.metadata.name ?? '', [PART_OF_LABEL]: 'kmsstack' };
}

export function controllerReference(owner: KubeObject): OwnerReference {
  if (!owner.apiVersion || !owner.kind || !owner.metadata.name || !owner.metadata.uid) {
    throw new Error('an owner needs apiVersion, kind, metadata.name and metadata.uid');
  }
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
}

function childKey(kind: string, name: string): string {
  return `${kind}/${name}`;
}

/** Desired children of one owner, collected by the reconcile steps. */
export class DesiredChildren {
  private readonly desired = new Map<string, KubeObject>();
  private readonly unapplied = new Set<string>();

  constructor(private readonly owner: KubeObject) {}

  /**
   * Adds (or replaces) a desired child. Namespace, the operator's labels and the controller
   * ownerReference are set here, so builders need not repeat them. Returns the stamped object.
   */
  add(child: KubeObject): KubeObject {
    const kind = child.kind as OwnedKind;
    if (!ownedKinds.includes(kind) || resources[kind].apiVersion !== child.apiVersion) {
      throw new Error(`${child.apiVersion}/${child.kind} cannot be a child: owned kinds are ${ownedKinds.join(', ')}`);
    }
    const name = child.metadata.name;
    if (!name) throw new Error(`a ${kind} child needs metadata.name`);
    const namespace = this.owner.metadata.namespace;
    if (child.metadata.namespace !== undefined && child.metadata.namespace !== namespace) {
      throw new Error(`${kind} ${name}: a child must live in its owner's namespace ${namespace}`);
    }
    const stamped: KubeObject = {
      ...child,
      metadata: {
        ...child.metadata,
        namespace,
        labels: { ...child.metadata.labels, ...childLabels(this.owner) },
        ownerReferences: [controllerReference(this.owner)],
      },
    };
    this.desired.set(childKey(kind, name), stamped);
    this.unapplied.add(childKey(kind, name));
    return stamped;
  }

  get(kind: OwnedKind, name: string): KubeObject | undefined {
    return this.desired.get(childKey(kind, name));
  }

  has(kind: string, name: string): boolean {
    return this.desired.has(childKey(kind, name));
  }

  all(): KubeObject[] {
    return [...this.desired.values()];
  }

  /** Children added since the last call, in order of addition. */
  takeUnapplied(): KubeObject[] {
    const out = [...this.unapplied].map((key) => this.desired.get(key) as KubeObject);
    this.unapplied.clear();
    return out;
  }
}

export interface ApplyEnv {
  kube: KubeClient;
  cache: ObjectReader;
  events: EventSink;
  logger: Logger;
}

/** Applies each child whose cached live object differs; returns how many writes were sent. */
export async function applyChildren(owner: KubeObject, children: readonly KubeObject[], env: ApplyEnv): Promise<number> {
  let writes = 0;
  for (const child of children) {
    const kind = child.kind as OwnedKind;
    const name = child.metadata.name as string;
    const live = env.cache.get(kind, child.metadata.namespace as string, name);
    const difference = findDifference(child, live);
    if (difference === undefined) continue;
    env.logger.info({ child: `${kind}/${name}`, difference }, live ? 'updating child' : 'creating child');
    const applied = await env.kube.apply(child);
    writes++;
    if (!live) {
      const note = `created ${kind} ${name}`;
      await env.events.emit(owner, { type: 'Normal', reason: 'Created', action: 'Apply', note, dedupKey: `${note} ${applied.metadata.uid ?? ''}` });
    }
  }
  return writes;
}

/**
 * Deletes the children of `owner` (found by its labels and controller ownerReference in the caches)
 * that `desired` no longer contains. Only call this after a complete reconcile: a step that did not run
 * has not declared its children, and they would be deleted.
 */
export async function pruneChildren(owner: KubeObject, desired: DesiredChildren, env: ApplyEnv): Promise<number> {
  let deletes = 0;
  const namespace = owner.metadata.namespace as string;
  for (const kind of ownedKinds) {
    for (const live of env.cache.list(kind, namespace, childLabels(owner))) {
      const name = live.metadata.name as string;
      const ownedByThis = live.metadata.ownerReferences?.some((ref) => ref.controller && ref.uid === owner.metadata.uid);
      if (!ownedByThis || desired.has(kind, name)) continue;
      env.logger.info({ child: `${kind}/${name}` }, 'pruning child that is no longer desired');
      if (await env.kube.delete(resources[kind], namespace, name, live.metadata.uid)) deletes++;
      await env.events.emit(owner, { type: 'Normal', reason: 'Pruned', action: 'Delete', note: `deleted ${kind} ${name}, no longer needed` });
    }
  }
  return deletes;
}
