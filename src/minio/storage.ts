// Growing MinIO's drives. A StatefulSet's claim templates are immutable, so a larger
// spec.minio.storage.size cannot reach the drives through the StatefulSet: the template keeps the
// size the drives were created with, and each existing PersistentVolumeClaim is expanded in place —
// which the cluster does only when the claim's StorageClass allows volume expansion. Pure helpers;
// the step reads the claims and classes and applies the new sizes.
import type { V1PersistentVolumeClaim, V1StatefulSet } from '@kubernetes/client-node';
import { compareQuantities } from '../runtime/quantity.ts';

/** Annotation on the StatefulSet: the drive size every claim was last brought to (skips reads when current). */
export const DRIVE_SIZE_ANNOTATION = 'kmsstack.io/drive-size';

function templateSize(template: V1PersistentVolumeClaim | undefined): string | undefined {
  return template?.spec?.resources?.requests?.storage as string | undefined;
}

/** Whether `wanted` is larger than the size the live StatefulSet's drives were created with. */
export function growsDrives(live: V1StatefulSet | undefined, wanted: string): boolean {
  const created = templateSize(live?.spec?.volumeClaimTemplates?.[0]);
  return created !== undefined && (compareQuantities(wanted, created) ?? 0) > 0;
}

/** `desired` with the live claim templates' sizes: they cannot change (the claims grow instead). */
export function keepCreatedSizes(desired: V1StatefulSet, live: V1StatefulSet): V1StatefulSet {
  const templates = desired.spec?.volumeClaimTemplates?.map((template, i) => {
    const created = templateSize(live.spec?.volumeClaimTemplates?.[i]);
    return created === undefined
      ? template
      : { ...template,
        spec: { ...template.spec,
          resources: { ...template.spec?.resources,
            requests: { ...template.spec?.resources?.requests, storage: created } } } };
  });
  return { ...desired, spec: { ...desired.spec!, ...(templates ? { volumeClaimTemplates: templates } : {}) } };
}

/** The claims the StatefulSet controller made: <template>-<statefulset>-<ordinal>. */
export function claimNames(statefulSet: V1StatefulSet): string[] {
  const name = statefulSet.metadata?.name ?? '';
  const replicas = statefulSet.spec?.replicas ?? 1;
  return (statefulSet.spec?.volumeClaimTemplates ?? []).flatMap((template) =>
    Array.from({ length: replicas }, (_, ordinal) => `${template.metadata?.name ?? ''}-${name}-${ordinal}`)
  );
}

/** The fields the operator applies to a claim to grow it (server-side apply owns only these). */
export function claimResize(name: string, namespace: string, size: string): V1PersistentVolumeClaim {
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace },
    spec: { resources: { requests: { storage: size } } } };
}

/** Whether `claim` asks for less than `size`. */
export function claimBelow(claim: V1PersistentVolumeClaim, size: string): boolean {
  const requested = claim.spec?.resources?.requests?.storage as string | undefined;
  return requested === undefined || (compareQuantities(requested, size) ?? 0) < 0;
}
