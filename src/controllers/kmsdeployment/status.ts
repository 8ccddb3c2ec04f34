// The status of a KMSDeployment: conditions (with Ready derived from them), observedGeneration and the
// fragments steps contributed. Written through the status subresource, and only when it changed.
import { EventReason } from '../../api/reasons.ts';
import { ConditionType } from '../../api/constants.ts';
import type { EventSink } from '../../runtime/events.ts';
import type { KubeClient } from '../../runtime/kube/client.ts';
import type { KubeObject } from '../../runtime/kube/resources.ts';
import { findDifference } from '../../runtime/subset.ts';
import type { ConditionReport } from '../../runtime/step.ts';
import { type Condition, READY, readyFrom, setCondition } from './conditions.ts';

export interface KMSDeploymentStatusView {
  observedGeneration?: number;
  conditions?: Condition[];
  [fragment: string]: unknown;
}

export type KMSDeploymentObject = KubeObject & { spec?: unknown; status?: KMSDeploymentStatusView };

/**
 * The status after this reconcile: the reported conditions in data-path order (a transition time is
 * kept when the status did not flip), then Ready derived from them. Conditions no step reported this
 * time (e.g. after an invalid spec stopped the run) are dropped rather than left stale.
 */
export function buildStatus(
  object: KMSDeploymentObject,
  reports: readonly ConditionReport[],
  fragments: Record<string, unknown>,
  now: Date,
): KMSDeploymentStatusView {
  const generation = object.metadata.generation ?? 0;
  let merged: Condition[] = [...(object.status?.conditions ?? [])];
  for (const report of reports) merged = setCondition(merged, report, generation, now);
  merged = setCondition(merged, readyFrom(merged, reports.map((r) => r.type)), generation, now);
  const order = [...reports.map((r) => r.type), READY];
  const conditions = order.map((type) => merged.find((c) => c.type === type) as Condition);
  return { ...fragments, observedGeneration: generation, conditions };
}

/** Whether writing `desired` would change the live status (fields only we write; removals count). */
export function statusChanged(desired: KMSDeploymentStatusView, live: KMSDeploymentStatusView | undefined): boolean {
  if (!live) return true;
  if (Object.keys(live).some((key) => !(key in desired))) return true;
  const wrap = (status: unknown): KubeObject => ({ metadata: {}, status });
  return findDifference(wrap(desired), wrap(live)) !== undefined;
}

/** Server-side applies the status subresource if it changed; returns whether a write was sent. */
export async function writeStatus(kube: KubeClient, object: KMSDeploymentObject,
  status: KMSDeploymentStatusView): Promise<boolean>
{
  if (!statusChanged(status, object.status)) return false;
  await kube.apply(
    { apiVersion: object.apiVersion, kind: object.kind,
      metadata: { name: object.metadata.name, namespace: object.metadata.namespace }, status },
    { subresource: 'status' },
  );
  return true;
}

/**
 * Events for what changed in this status write: Ready became True (Normal), Ready stopped being True
 * (Warning with its reason), the spec became invalid (Warning InvalidSpec with the field errors).
 * Called only after a status write, so a steady state emits nothing.
 */
export async function announce(events: EventSink, object: KMSDeploymentObject,
  status: KMSDeploymentStatusView): Promise<void>
{
  const before = (type: string) => object.status?.conditions?.find((c) => c.type === type);
  const after = (type: string) => status.conditions?.find((c) => c.type === type);
  const ready = after(READY);
  if (ready?.status === 'True' && before(READY)?.status !== 'True') {
    await events.emit(object, { type: 'Normal', reason: EventReason.Ready, action: 'Reconcile', note: ready.message });
  } else if (ready && ready.status !== 'True' && before(READY)?.status === 'True') {
    await events.emit(object, { type: 'Warning', reason: ready.reason, action: 'Reconcile', note: ready.message });
  }
  const specValid = after(ConditionType.SpecValid);
  if (specValid?.status === 'False' &&
    (before(ConditionType.SpecValid)?.status !== 'False' ||
      before(ConditionType.SpecValid)?.message !== specValid.message))
  {
    await events.emit(object, { type: 'Warning', reason: specValid.reason, action: 'Validate',
      note: specValid.message });
  }
}
