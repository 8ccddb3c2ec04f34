// Part of stage 7 (MinIOAvailable): a larger spec.minio.storage.size grows the existing drives. Each
// claim of the StatefulSet that asks for less gets the new size by server-side apply of that one
// field. Whether a claim may grow is the API server's decision (the PersistentVolumeClaimResize
// admission checks the StorageClass's allowVolumeExpansion), so the operator reads no StorageClass
// and needs no cluster-wide permission; a refusal is StorageExpansionNotSupported. Once every claim
// asks for the size, the StatefulSet records it (kmsstack.io/drive-size), so later reconciles read nothing.
import { ConditionReason, EventReason } from '../../../api/reasons.ts';
import type { V1PersistentVolumeClaim, V1StatefulSet } from '@kubernetes/client-node';
import { claimBelow, claimNames, claimResize, DRIVE_SIZE_ANNOTATION } from '../../../minio/storage.ts';
import { KubeApiError } from '../../../runtime/kube/client.ts';
import { type KubeObject, resources } from '../../../runtime/kube/resources.ts';
import type { StepResult } from '../../../runtime/step.ts';
import type { KMSDeploymentStepContext } from '../context.ts';

/** Grows the claims of `live` to `size`: a result when the step must stop, else the size reached. */
export async function growDrives(context: KMSDeploymentStepContext, live: V1StatefulSet, size: string,
  field = 'spec.minio.storage.size'): Promise<{ result: StepResult } | { grown: string }>
{
  if (live.metadata?.annotations?.[DRIVE_SIZE_ANNOTATION] === size) return { grown: size };
  const namespace = live.metadata?.namespace ?? '';
  const claims: V1PersistentVolumeClaim[] = [];
  for (const name of claimNames(live)) {
    const claim = (await context.kube.get(resources.PersistentVolumeClaim, namespace, name)) as
      | V1PersistentVolumeClaim
      | undefined;
    if (claim && claimBelow(claim, size)) claims.push(claim);
  }
  for (const claim of claims) {
    try {
      await context.kube.apply(claimResize(claim.metadata?.name ?? '', namespace, size) as unknown as KubeObject);
    } catch (err) {
      if (!(err instanceof KubeApiError && (err.statusCode === 403 || err.statusCode === 422))) throw err;
      const created = claim.spec?.resources?.requests?.storage ?? 'its size';
      const className = claim.spec?.storageClassName
        ? `StorageClass ${claim.spec.storageClassName}`
        : 'its StorageClass';
      return {
        result: {
          status: 'False',
          reason: ConditionReason.StorageExpansionNotSupported,
          message:
            `${field}: claim ${claim.metadata?.name} cannot grow to ${size} (${className} must set allowVolumeExpansion, and the claim must be bound); set it back to ${created}, or allow expansion. The API server said: ${err.message}`
              .slice(0, 1024),
          requeueAfterMs: 60_000,
        },
      };
    }
  }
  if (claims.length > 0) {
    await context.events.emit(context.object, { type: 'Normal', reason: EventReason.DrivesExpanding, action: 'Expand',
      note: `asked for ${size} on ${claims.length} MinIO drive claim(s); the cluster resizes them` });
  }
  return { grown: size };
}
