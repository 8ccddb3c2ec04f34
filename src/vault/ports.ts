// What the Vault step needs from Kubernetes, and its implementation over the runtime's KubeClient.
import type { KubeClient } from '../runtime/kube/client.ts';
import { resources, type KubeObject } from '../runtime/kube/resources.ts';
import { kesNames } from '../workload/names.ts';
import { appRoleSecretDiffers, type SecretObject } from './approle-secret.ts';
import { KES_APPROLE_CHECKSUM_ANNOTATION } from './names.ts';

export interface SecretLike {
  metadata?: { annotations?: Record<string, string>; labels?: Record<string, string>; ownerReferences?: unknown[] };
  data?: Record<string, string>;
}

export interface VaultKubePort {
  getSecret(namespace: string, name: string): Promise<SecretLike | undefined>;
  /**
   * Makes the AppRole Secret look like `desired`; `existing` is what getSecret returned. Called on
   * every successful pass, so an implementation that declares children can always declare it.
   */
  applySecret(desired: SecretObject, existing: SecretLike | undefined): Promise<void>;
  /** The KES Deployment of `name`, if it exists. */
  getKesDeployment(namespace: string, name: string): Promise<KubeObject | undefined>;
}

interface DeploymentShape {
  metadata?: { generation?: number };
  spec?: { replicas?: number; template?: { metadata?: { annotations?: Record<string, string> } } };
  status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; availableReplicas?: number; unavailableReplicas?: number };
}

/**
 * True when every KES pod runs with the AppRole credentials whose checksum is `checksum`: the pod
 * template carries it and the rollout finished (all replicas updated and available, none left over).
 * No KES Deployment means nobody uses an older secret-id.
 */
export function kesRunsOnChecksum(deployment: KubeObject | undefined, checksum: string): boolean {
  if (!deployment) return true;
  const d = deployment as unknown as DeploymentShape;
  if (d.spec?.template?.metadata?.annotations?.[KES_APPROLE_CHECKSUM_ANNOTATION] !== checksum) return false;
  const status = d.status ?? {};
  const want = d.spec?.replicas ?? 1;
  return (
    (status.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
    (status.updatedReplicas ?? 0) >= want &&
    (status.availableReplicas ?? 0) >= want &&
    (status.replicas ?? 0) <= want &&
    (status.unavailableReplicas ?? 0) === 0
  );
}

export function kubeClientPort(kube: KubeClient): VaultKubePort {
  return {
    getSecret: (namespace, name) => kube.get<KubeObject & SecretLike>(resources.Secret, namespace, name),
    applySecret: async (desired, existing) => {
      if (appRoleSecretDiffers(existing, desired)) await kube.apply(desired as unknown as KubeObject);
    },
    getKesDeployment: (namespace, name) => kube.get(resources.Deployment, namespace, kesNames(name).workload),
  };
}
