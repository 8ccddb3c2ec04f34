// Names of the API that the operator, the CRD and the tests share.

export const API_GROUP = 'kmsstack.io';
export const API_VERSION = 'v1alpha1';
export const KIND = 'KMSDeployment';
export const PLURAL = 'kmsdeployments';
export const SINGULAR = 'kmsdeployment';
export const SHORT_NAMES = ['kmsd'] as const;
export const CATEGORIES = ['kmsstack'] as const;
export const CRD_NAME = `${PLURAL}.${API_GROUP}`;

/** Condition types in the order the reconcile establishes them; Ready summarizes the others. */
export const conditionTypes = [
  'SpecValid',
  'CertificatesReady',
  'VaultConfigured',
  'KESAvailable',
  'KeysReady',
  'MinIOAvailable',
  'EncryptionVerified',
  'BucketsReady',
  'Ready',
] as const;

export type ConditionType = (typeof conditionTypes)[number];

/**
 * The condition types of a KMSDeployment's status, by name: the one place they are spelled. Each is
 * written by one stage of the data path (src/controllers/kmsdeployment/data-path.ts); libraries under
 * vault/, pki/, kes/ and minio/ return results and never name one.
 */
export const ConditionType = {
  /** Stage 2: the spec passed the schema's, the CEL rules' and the operator's own checks. */
  SpecValid: 'SpecValid',
  /** Stage 3: the CA, the KES server certificate and the client identities are issued and current. */
  CertificatesReady: 'CertificatesReady',
  /** Stage 4: KV mount, KES's policy, its AppRole and a live secret-id in the AppRole Secret. */
  VaultConfigured: 'VaultConfigured',
  /** Stage 5: KES runs the current config on every replica, ready. */
  KESAvailable: 'KESAvailable',
  /** Stage 6: the master keys of spec.kes.keys exist and are still the ones the operator made. */
  KeysReady: 'KeysReady',
  /** Stage 7: MinIO runs the current template on every replica, ready. */
  MinIOAvailable: 'MinIOAvailable',
  /** Stage 8: a data key generated and decrypted with MinIO's identity, and the key's canary decrypts. */
  EncryptionVerified: 'EncryptionVerified',
  /** Stage 9: every bucket of spec.minio.buckets exists with its default encryption (True with none). */
  BucketsReady: 'BucketsReady',
  /** True only when every other condition is True; else the first one that is not. */
  Ready: 'Ready',
} as const satisfies { [T in ConditionType]: T };
