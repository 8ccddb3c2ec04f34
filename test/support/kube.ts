// What a test does with the API server as an administrator would: its client, namespaces, Secrets.
import type { ControlPlane } from '../env/controlplane.ts';
import { KubeClient } from '../../src/runtime/kube/client.ts';
import { encodeSecretData, opaqueSecret } from '../../src/runtime/kube/secret-data.ts';

/** The admin client (system:masters) of a control plane; `fieldManager` names its server-side applies. */
export function adminClient(plane: ControlPlane, fieldManager = 'kmsstack-test'): KubeClient {
  return new KubeClient(plane.kubeConfig, fieldManager);
}

/** Creates namespace `name`; one that exists already is left as it is. */
export async function ensureNamespace(kube: KubeClient, name: string): Promise<void> {
  const existing = await kube.request<unknown>('GET', `/api/v1/namespaces/${name}`, { resource: 'namespaces', verb: 'get' }).catch(() => undefined);
  if (existing) return;
  await kube.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, resource: 'namespaces', verb: 'create' });
}

/** Applies an Opaque Secret holding the plain-text `values`. */
export async function putSecret(kube: KubeClient, namespace: string, name: string, values: Record<string, string>): Promise<void> {
  await kube.apply(opaqueSecret({ name, namespace }, encodeSecretData(values)));
}
