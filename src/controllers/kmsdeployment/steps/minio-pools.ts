// Part of stage 7 (MinIOAvailable): the StatefulSet of each MinIO server pool (src/minio/pools.ts).
// Each pool is checked against its live StatefulSet (no reshaping, drives grow but never shrink) and
// its drives are grown like the first pool's. When a pool is added, every server must restart with
// the new pool list at once: a distributed MinIO whose servers disagree on the pools does not start,
// so a rolling update would stop at its first pod. Once a pool's StatefulSet carries the new list,
// the operator deletes its pods together (the StatefulSet controller re-creates them from the new
// template) and records the list on the StatefulSet (kmsstack.io/pool-layout). Specs with one pool
// never get that annotation, so their StatefulSet is what it always was.
import type { V1StatefulSet } from '@kubernetes/client-node';
import { EventReason } from '../../../api/reasons.ts';
import { unsafeMinioChange } from '../../../minio/changes.ts';
import type { MinioPool } from '../../../minio/pools.ts';
import { DRIVE_SIZE_ANNOTATION, growsDrives, keepCreatedSizes } from '../../../minio/storage.ts';
import { KubeApiError } from '../../../runtime/kube/client.ts';
import { type KubeObject, resources } from '../../../runtime/kube/resources.ts';
import type { StepResult } from '../../../runtime/step.ts';
import type { KMSDeploymentStepContext } from '../context.ts';

/** StatefulSet annotation: checksum of the pool list its pods were last restarted together with. */
export const POOL_LAYOUT_ANNOTATION = 'kmsstack.io/pool-layout';

function annotated(statefulSet: V1StatefulSet, key: string, value: string | undefined): V1StatefulSet {
  if (value === undefined) return statefulSet;
  return { ...statefulSet,
    metadata: { ...statefulSet.metadata, annotations: { ...statefulSet.metadata?.annotations, [key]: value } } };
}

const argsOf = (statefulSet: V1StatefulSet | undefined): string =>
  JSON.stringify(statefulSet?.spec?.template?.spec?.containers?.[0]?.args ?? []);

/** Deletes the pods of a pool at once; the StatefulSet controller re-creates them from its current template. */
async function restartPool(context: KMSDeploymentStepContext, live: V1StatefulSet): Promise<void> {
  const name = live.metadata?.name ?? '';
  const namespace = live.metadata?.namespace ?? '';
  for (let ordinal = 0; ordinal < (live.spec?.replicas ?? 0); ordinal++) {
    try {
      await context.kube.delete(resources.Pod, namespace, `${name}-${ordinal}`);
    } catch (err) {
      if (!(err instanceof KubeApiError && err.statusCode === 404)) throw err;
    }
  }
  const note = `restarted the ${
    live.spec?.replicas ?? 0
  } server(s) of ${name} together: the server pools changed, and MinIO's servers must agree on them`;
  await context.events.emit(context.object, { type: 'Normal', reason: EventReason.PoolsRestarted, action: 'Restart',
    note });
}

/** Grows the claims of a live StatefulSet (minio-drives.ts, handed in by the MinIO step). */
export type GrowDrives = (context: KMSDeploymentStepContext, live: V1StatefulSet, size: string,
  field: string) => Promise<{ result: StepResult } | { grown: string }>;

/**
 * Declares the StatefulSet of `pool` from `desired` and its `live` one (from the cache), or the
 * result that stops the step. `layout` is the checksum of the pool list, undefined with one pool.
 */
export async function declarePool(context: KMSDeploymentStepContext, pool: MinioPool, desired: V1StatefulSet,
  live: V1StatefulSet | undefined, layout: string | undefined, growDrives: GrowDrives): Promise<StepResult | undefined>
{
  const refusal = unsafeMinioChange(live, desired, pool.fields);
  if (refusal) {
    // The StatefulSet is left as it is; not True, so the run is incomplete and nothing is pruned.
    await context.events.emit(context.object, { type: 'Warning', reason: refusal.reason, action: 'Apply',
      note: refusal.message });
    return { status: 'False', reason: refusal.reason, message: refusal.message };
  }
  let statefulSet = desired;
  if (live && growsDrives(live, pool.storage.size)) {
    statefulSet = keepCreatedSizes(desired, live);
    const drives = await growDrives(context, live, pool.storage.size, pool.fields.size);
    if ('result' in drives) {
      context.children.add(statefulSet as unknown as KubeObject);
      await context.events.emit(context.object, { type: 'Warning', reason: drives.result.reason, action: 'Expand',
        note: drives.result.message });
      return drives.result;
    }
    statefulSet = annotated(statefulSet, DRIVE_SIZE_ANNOTATION, drives.grown);
  }
  if (layout !== undefined) {
    const liveLayout = live?.metadata?.annotations?.[POOL_LAYOUT_ANNOTATION];
    let recorded = live ? liveLayout : layout;
    if (live && liveLayout !== layout && argsOf(live) === argsOf(desired)) {
      await restartPool(context, live);
      recorded = layout;
    }
    statefulSet = annotated(statefulSet, POOL_LAYOUT_ANNOTATION, recorded);
  }
  context.children.add(statefulSet as unknown as KubeObject);
  return undefined;
}
