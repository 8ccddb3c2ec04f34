// The pod settings a user may give KES and MinIO (spec.kes, spec.minio), applied alike to both
// workloads. The operator's own values win where they carry meaning (labels its selectors use,
// environment it wires); security contexts are replaced as a whole when given, so that a platform
// that assigns UIDs (OpenShift's restricted SCC) gets no UID from the operator.
import type { V1Affinity, V1EnvVar, V1LocalObjectReference, V1PodSecurityContext, V1PodSpec, V1SecurityContext,
  V1Toleration, V1TopologySpreadConstraint } from '@kubernetes/client-node';
import { definedEntries } from './labels.ts';

export interface UserPodSettings {
  priorityClassName?: string;
  serviceAccountName?: string;
  topologySpreadConstraints?: V1TopologySpreadConstraint[];
  podSecurityContext?: V1PodSecurityContext;
  securityContext?: V1SecurityContext;
  env?: V1EnvVar[];
  podLabels?: Record<string, string | undefined>;
  imagePullSecrets?: V1LocalObjectReference[];
  nodeSelector?: Record<string, string | undefined>;
  affinity?: V1Affinity;
  tolerations?: V1Toleration[];
}

/**
 * The hardened pod spec fields every workload of the stack starts from: no API token and no service
 * links in the pods, a non-root pod security context running as `runAs` (the user's replaces it as a
 * whole), then the scheduling fields the user set. `fsGroupChangePolicy` is for pods with volumes
 * that need their ownership fixed once (MinIO's drives).
 */
export function hardenedPodSpec(user: UserPodSettings, runAs: number,
  fsGroupChangePolicy?: string): Partial<V1PodSpec>
{
  return {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: user.podSecurityContext ?? {
      runAsNonRoot: true,
      runAsUser: runAs,
      runAsGroup: runAs,
      fsGroup: runAs,
      ...(fsGroupChangePolicy ? { fsGroupChangePolicy } : {}),
      seccompProfile: { type: 'RuntimeDefault' },
    },
    ...podSpecExtras(user),
    ...(user.imagePullSecrets ? { imagePullSecrets: user.imagePullSecrets } : {}),
    ...(user.nodeSelector ? { nodeSelector: definedEntries(user.nodeSelector) } : {}),
    ...(user.affinity ? { affinity: user.affinity } : {}),
    ...(user.tolerations ? { tolerations: user.tolerations } : {}),
  };
}

/**
 * The container security context of every workload of the stack unless the user gives one: no
 * privilege escalation, a read-only root file system, non-root, every capability dropped (no
 * IPC_LOCK: Pod Security baseline/restricted forbid it; KES carries on without mlock, docs/kes.md).
 */
export function hardenedContainerSecurity(user: V1SecurityContext | undefined): V1SecurityContext {
  return user ??
    { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true,
      capabilities: { drop: ['ALL'] } };
}

/** Pod spec fields that exist only when the user set them. */
export function podSpecExtras(user: UserPodSettings): Partial<V1PodSpec> {
  return {
    ...(user.priorityClassName ? { priorityClassName: user.priorityClassName } : {}),
    ...(user.serviceAccountName ? { serviceAccountName: user.serviceAccountName } : {}),
    ...(user.topologySpreadConstraints ? { topologySpreadConstraints: user.topologySpreadConstraints } : {}),
  };
}

/** The container's env: the operator's first; a user entry with a name the operator sets is dropped (the schema refuses those too). */
export function withUserEnv(own: V1EnvVar[], user: V1EnvVar[] | undefined): V1EnvVar[] {
  const taken = new Set(own.map((e) => e.name));
  return [...own, ...(user ?? []).filter((e) => !taken.has(e.name))];
}

/** User pod labels first, so that the operator's (its selectors') win on conflict. */
export function podLabels(user: Record<string, string | undefined> | undefined,
  own: Record<string, string>): Record<string, string>
{
  return { ...definedEntries(user), ...own };
}
