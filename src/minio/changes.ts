// Changes to a running MinIO that the operator refuses to apply. MinIO fixes its erasure layout
// (servers x drives) when it formats the drives; starting the same pool with another layout leaves
// it unable to find the objects it wrote. The claim templates of a StatefulSet are immutable too,
// so a new size or class cannot reach existing drives this way.
import type { V1PersistentVolumeClaim, V1StatefulSet } from '@kubernetes/client-node';
import { compareQuantities } from '../runtime/quantity.ts';
import { ConditionReason } from '../api/reasons.ts';

export interface ChangeRefusal {
  /** Condition reason (MinIOAvailable=False). */
  reason: typeof ConditionReason.UnsafeChangeRefused;
  /** Spec field whose change is refused. */
  field: string;
  message: string;
}

function refuse(field: string, message: string): ChangeRefusal {
  return { reason: ConditionReason.UnsafeChangeRefused, field, message: `${field}: ${message}` };
}

function size(claim: V1PersistentVolumeClaim | undefined): string | undefined {
  return claim?.spec?.resources?.requests?.storage as string | undefined;
}

/** The spec fields that shape a server pool (MinioPool.fields), named in the messages. */
export interface PoolFields {
  servers: string;
  drivesPerServer: string;
  size: string;
  storageClassName: string;
}

const firstPool: PoolFields = { servers: 'spec.minio.replicas', drivesPerServer: 'spec.minio.drivesPerServer',
  size: 'spec.minio.storage.size', storageClassName: 'spec.minio.storage.storageClassName' };

/**
 * Why `desired` must not replace the existing StatefulSet of a MinIO server pool, or undefined when
 * it may. `existing` is the StatefulSet as read from the cluster (undefined when there is none yet).
 */
export function unsafeMinioChange(existing: V1StatefulSet | undefined, desired: V1StatefulSet,
  fields: PoolFields = firstPool): ChangeRefusal | undefined
{
  if (!existing?.spec || !desired.spec) return undefined;
  const before = existing.spec;
  const after = desired.spec;
  const serversBefore = before.replicas ?? 1;
  const serversAfter = after.replicas ?? 1;
  if (serversBefore !== serversAfter) {
    return refuse(
      fields.servers,
      `MinIO runs with ${serversBefore} server(s) in this pool; changing to ${serversAfter} would change its erasure layout and leave existing objects unreadable. Set it back to ${serversBefore}; to grow, add a server pool (spec.minio.pools).`,
    );
  }
  const claimsBefore = before.volumeClaimTemplates ?? [];
  const claimsAfter = after.volumeClaimTemplates ?? [];
  if (claimsBefore.length !== claimsAfter.length) {
    return refuse(
      fields.drivesPerServer,
      `MinIO runs with ${claimsBefore.length} drive(s) per server in this pool; changing to ${claimsAfter.length} would change its erasure layout and leave existing objects unreadable. Set it back to ${claimsBefore.length}.`,
    );
  }
  for (const [i, claim] of claimsAfter.entries()) {
    const old = claimsBefore[i];
    const [sizeBefore, sizeAfter] = [size(old), size(claim)];
    // Growing is done claim by claim (src/minio/storage.ts); a claim can never shrink.
    if (sizeBefore !== undefined && sizeAfter !== undefined && (compareQuantities(sizeAfter, sizeBefore) ?? 0) < 0) {
      return refuse(
        fields.size,
        `the drives were created with ${sizeBefore}, and a PersistentVolumeClaim can grow but never shrink; set it back to ${sizeBefore} or more.`,
      );
    }
    const [classBefore, classAfter] = [old?.spec?.storageClassName, claim.spec?.storageClassName];
    if (classBefore !== classAfter) {
      const name = (c: string | undefined) => c ?? '(unset: the cluster default)';
      return refuse(
        fields.storageClassName,
        `the drives were created with StorageClass ${name(classBefore)} and a StatefulSet cannot move them to ${
          name(classAfter)
        }; set it back.`,
      );
    }
  }
  return undefined;
}
