// The client Service of a stack workload (KES's, MinIO's): the user's type, labels and annotations
// from spec.<component>.service, the operator's labels winning, and a selector of the stable labels.
import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import { definedEntries, selectorLabels, type StackComponent, stackLabels } from './labels.ts';
import type { DeploymentRef } from './names.ts';
import { podLabels } from './pod-settings.ts';

/** What a user may set on a workload's Service (spec.kes.service, spec.minio.service). */
export interface UserServiceSettings {
  type?: string;
  labels?: Record<string, string | undefined>;
  annotations?: Record<string, string | undefined>;
}

export function stackService(ref: DeploymentRef, component: StackComponent, name: string,
  user: UserServiceSettings | undefined, ports: V1ServicePort[]): V1Service
{
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: ref.namespace,
      labels: podLabels(user?.labels, stackLabels(ref.name, component)),
      ...(user?.annotations ? { annotations: definedEntries(user.annotations) } : {}),
    },
    spec: {
      type: user?.type ?? 'ClusterIP',
      selector: selectorLabels(ref.name, component),
      ports,
    },
  };
}
