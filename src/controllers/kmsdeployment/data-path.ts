// The data path of a KMSDeployment as the operator runs it: stages 3-9 in order, each a step that owns
// one condition (docs/architecture.md), and the cleanups the finalizer runs before it lets go.
import type { KMSDeploymentCleanup, KMSDeploymentStep } from './context.ts';
import { bucketsStep } from './steps/buckets.ts';
import { kesStep } from './steps/kes.ts';
import { keysStep } from './steps/keys.ts';
import { minioStep } from './steps/minio.ts';
import { pkiStep } from './steps/pki.ts';
import { vaultCleanup, type VaultRuntime, vaultRuntime, vaultStep } from './steps/vault.ts';
import { verifyStep } from './steps/verify.ts';

/** Stages 3-9 of the data path as the operator runs them, and the cleanups of the finalizer. */
export function defaultDataPath(
  vault: VaultRuntime = vaultRuntime(),
): { steps: KMSDeploymentStep[]; cleanups: KMSDeploymentCleanup[] } {
  return {
    steps: [
      // CertificatesReady: the CA, the KES server certificate, MinIO's and the operator's client identities.
      pkiStep(),
      // VaultConfigured: the KV mount, KES's policy, its AppRole and a live secret-id in a Secret.
      vaultStep(vault),
      // KESAvailable: the KES config Secret, Deployment and Service, rolled out to the current config.
      kesStep(),
      // KeysReady: the master keys of spec.kes.keys exist in KES and are still the ones the operator made.
      keysStep(),
      // MinIOAvailable: root credentials, the StatefulSet and its Services, rolled out and ready.
      minioStep(),
      // EncryptionVerified: a data key generated and decrypted with MinIO's identity, and the key's canary.
      verifyStep(),
      // BucketsReady: the buckets of spec.minio.buckets exist with their default encryption (never deleted).
      bucketsStep(),
    ],
    cleanups: [vaultCleanup(vault)],
  };
}
