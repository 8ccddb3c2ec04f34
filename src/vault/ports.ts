// What the Vault step needs from Kubernetes, and its implementation over the runtime's KubeClient.
import type { KubeClient } from '../runtime/kube/client.ts';
import { type KubeObject, resources } from '../runtime/kube/resources.ts';
import { kesNames } from '../workload/names.ts';
import { rolloutOf } from '../workload/rollout.ts';
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

/** Poll interval while Vault credentials wait for KES to roll (Deployment events also trigger). */
export const KES_ROLL_POLL_MS = 60_000;

/**
 * True when every KES pod runs with the AppRole credentials whose checksum is `checksum`: the pod
 * template carries it and the rollout finished (rolloutOf, the one rollout rule). No KES Deployment
 * means nobody uses an older secret-id.
 */
export function kesRunsOnChecksum(deployment: KubeObject | undefined, checksum: string): boolean {
  if (!deployment) return true;
  const replicas = (deployment as { spec?: { replicas?: number } }).spec?.replicas ?? 1;
  return rolloutOf('Deployment', deployment, replicas, checksum, KES_APPROLE_CHECKSUM_ANNOTATION).ready;
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
