// The Kubernetes resource types the operator reads and writes, with their REST paths. A fixed table
// instead of API discovery: every kind here is a stable built-in or our own CRD, and a table means no
// discovery round trips and no surprises from aggregated APIs.

/** A Kubernetes object as JSON, exactly as the API server sends it (no typed deserialisation). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  deletionTimestamp?: string;
  creationTimestamp?: string;
  [field: string]: unknown;
}

export interface ResourceType {
  /** "v1" for the core group, "<group>/<version>" otherwise. */
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

export const KMSSTACK_GROUP = 'kmsstack.io';

export const resources = {
  Secret: { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  ConfigMap: { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  Service: { apiVersion: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  ServiceAccount: { apiVersion: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true },
  Deployment: { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  StatefulSet: { apiVersion: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets', namespaced: true },
  PersistentVolumeClaim: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims',
    namespaced: true },
  Pod: { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
  StorageClass: { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', plural: 'storageclasses', namespaced: false },
  KMSDeployment: { apiVersion: `${KMSSTACK_GROUP}/v1alpha1`, kind: 'KMSDeployment', plural: 'kmsdeployments',
    namespaced: true },
  Lease: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', plural: 'leases', namespaced: true },
  Event: { apiVersion: 'events.k8s.io/v1', kind: 'Event', plural: 'events', namespaced: true },
} as const satisfies Record<string, ResourceType>;

export type KnownKind = keyof typeof resources;

/** The kinds the operator creates as children of a KMSDeployment (watched through label-narrowed informers). */
export const ownedKinds = ['Secret', 'ConfigMap', 'Service', 'ServiceAccount', 'Deployment',
  'StatefulSet'] as const satisfies readonly KnownKind[];
export type OwnedKind = (typeof ownedKinds)[number];

export function resourceFor(apiVersion: string | undefined, kind: string | undefined): ResourceType {
  const found = Object.values(resources).find((r) => r.kind === kind && r.apiVersion === (apiVersion ?? 'v1'));
  if (!found) {
    throw new Error(`unsupported kind ${apiVersion ?? '?'}/${kind ?? '?'}: add it to src/runtime/kube/resources.ts`);
  }
  return found;
}

/** REST path of a collection (name undefined) or of one object, optionally of its subresource. */
export function resourcePath(type: ResourceType, namespace?: string, name?: string, subresource?: string): string {
  const root = type.apiVersion.includes('/') ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
  const scope = type.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const object = name === undefined ? '' : `/${encodeURIComponent(name)}`;
  const sub = subresource === undefined ? '' : `/${subresource}`;
  return `${root}${scope}/${type.plural}${object}${sub}`;
}

export function objectKey(obj: { metadata: { namespace?: string; name?: string } }): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}
