// The pod settings a user may give KES and MinIO (spec.kes, spec.minio), applied alike to both
// workloads. The operator's own values win where they carry meaning (labels its selectors use,
// environment it wires); security contexts are replaced as a whole when given, so that a platform
// that assigns UIDs (OpenShift's restricted SCC) gets no UID from the operator.
import type { V1EnvVar, V1PodSecurityContext, V1PodSpec, V1SecurityContext, V1TopologySpreadConstraint } from '@kubernetes/client-node';
import { definedEntries } from './labels.ts';

export interface UserPodSettings {
  priorityClassName?: string;
  serviceAccountName?: string;
  topologySpreadConstraints?: V1TopologySpreadConstraint[];
  podSecurityContext?: V1PodSecurityContext;
  securityContext?: V1SecurityContext;
  env?: V1EnvVar[];
  podLabels?: Record<string, string | undefined>;
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
export function podLabels(user: Record<string, string | undefined> | undefined, own: Record<string, string>): Record<string, string> {
  return { ...definedEntries(user), ...own };
}
