// The objects a reconcile wants to exist for one owner ("children"), and how they reach the cluster:
// each is stamped with the operator's labels and a controller ownerReference, applied with server-side
// apply only when the cached live object differs, and children that are no longer wanted are pruned.
// An object that already has a child's name but is not controlled by this owner is never overwritten
// (adopting it would let a KMSDeployment take over, say, another application's Secret): it is reported
// as a conflict and left as it is.
import type { ObjectReader } from './cache.ts';
import { INSTANCE_LABEL, MANAGED_BY, MANAGED_BY_LABEL } from './cache.ts';
import { type EventSink, listNote } from './events.ts';
import type { KubeClient } from './kube/client.ts';
import { type KubeObject, type OwnedKind, ownedKinds, type OwnerReference, resources } from './kube/resources.ts';
import type { Logger } from './logger.ts';
import { findDifference } from './subset.ts';

const PART_OF_LABEL = 'app.kubernetes.io/part-of';

/** The labels every child of `owner` carries; pruning finds children by them. */
export function childLabels(owner: KubeObject): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGED_BY, [INSTANCE_LABEL]: owner.metadata.name ?? '', [PART_OF_LABEL]: 'kmsstack' };
}

export function controllerReference(owner: KubeObject): OwnerReference {
  if (!owner.apiVersion || !owner.kind || !owner.metadata.name || !owner.metadata.uid) {
    throw new Error('an owner needs apiVersion, kind, metadata.name and metadata.uid');
  }
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid,
    controller: true, blockOwnerDeletion: true };
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

/** Whether `obj` is controlled by `owner` (its controller ownerReference carries the owner's uid). */
export function controlledBy(obj: KubeObject, owner: KubeObject): boolean {
  return obj.metadata.ownerReferences?.some((ref) => ref.controller === true && ref.uid === owner.metadata.uid) ??
    false;
}

/**
 * `obj` if `owner` controls it, else undefined: for steps that read a child from the API server, so a
 * foreign object with a child's name is neither used (its data) nor replaced (deleted) but treated as
 * absent; the apply then reports the conflict.
 */
export function ifControlledBy<T extends KubeObject>(obj: T | undefined, owner: KubeObject): T | undefined {
  return obj && controlledBy(obj, owner) ? obj : undefined;
}

export interface ApplyOutcome {
  /** The number of write requests sent. */
  writes: number;
  /** "Kind name" of each child whose name is taken by an object this owner does not control; never applied. */
  conflicts: string[];
}

/**
 * Applies each child whose cached live object differs. If any child's name is taken by an object this
 * owner does not control, none is applied: the step's children belong together (leaf certificates
 * without the CA they were issued from would be rewritten on every reconcile).
 */
export async function applyChildren(owner: KubeObject, children: readonly KubeObject[],
  env: ApplyEnv): Promise<ApplyOutcome>
{
  const outcome: ApplyOutcome = { writes: 0, conflicts: [] };
  // The looks are reads of distinct objects: sent together, a new KMSDeployment waits for one round trip, not nine.
  const checked = await Promise.all(children.map(async (child) => {
    const kind = child.kind as OwnedKind;
    const name = child.metadata.name as string;
    const namespace = child.metadata.namespace as string;
    const live = env.cache.get(kind, namespace, name);
    // The caches hold only objects with the operator's labels; one without them needs a look (metadata
    // only) before the first apply. A child the cache shows as this owner's needs none: steady state stays free.
    const existing = live ?? (await env.kube.getMetadata(resources[kind], namespace, name));
    return { child, live, existing };
  }));
  for (const { child, existing } of checked) {
    if (existing && !controlledBy(existing, owner)) {
      const what = `${child.kind} ${child.metadata.name}`;
      env.logger.warn({ child: what.replace(' ', '/') },
        "a child's name is taken by an object this KMSDeployment does not own; leaving it alone");
      outcome.conflicts.push(what);
    }
  }
  if (outcome.conflicts.length > 0) return outcome;
  const created: { what: string; uid: string }[] = [];
  // Applied one after the other, in the order the step declared them (a CA before the leaves it signed).
  for (const { child, live, existing } of checked) {
    const difference = findDifference(child, live);
    if (difference === undefined) continue;
    const what = `${child.kind} ${child.metadata.name}`;
    env.logger.info({ child: what.replace(' ', '/'), difference }, live ? 'updating child' : 'creating child');
    const applied = await env.kube.apply(child);
    outcome.writes++;
    if (!existing) created.push({ what, uid: applied.metadata.uid ?? '' });
  }
  if (created.length > 0) {
    const note = listNote(created.map((c) => c.what), 'created ');
    await env.events.emit(owner, { type: 'Normal', reason: 'Created', action: 'Apply', note,
      dedupKey: `${note} ${created.map((c) => c.uid).join(' ')}` });
  }
  return outcome;
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
      if (!controlledBy(live, owner) || desired.has(kind, name)) continue;
      env.logger.info({ child: `${kind}/${name}` }, 'pruning child that is no longer desired');
      if (await env.kube.delete(resources[kind], namespace, name, live.metadata.uid)) deletes++;
      await env.events.emit(owner, { type: 'Normal', reason: 'Pruned', action: 'Delete',
        note: `deleted ${kind} ${name}, no longer needed` });
    }
  }
  return deletes;
}
