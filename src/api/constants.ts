// Names of the API that the operator, the CRD and the tests share.

export const API_GROUP = 'kmsstack.io';
export const API_VERSION = 'v1alpha1';
export const KIND = 'KMSDeployment';
export const PLURAL = 'kmsdeployments';
export const SINGULAR = 'kmsdeployment';
export const SHORT_NAMES = ['kmsd'] as const;
export const CATEGORIES = ['kmsstack'] as const;
export const CRD_NAME = `${PLURAL}.${API_GROUP}`;
/** apiVersion as written in manifests. */
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;

/** Condition types in the order the reconcile establishes them; Ready summarizes the others. */
export const conditionTypes = [
  'SpecValid',
  'CertificatesReady',
  'VaultConfigured',
  'KESAvailable',
  'KeysReady',
  'MinIOAvailable',
  'EncryptionVerified',
  'Ready',
] as const;

export type ConditionType = (typeof conditionTypes)[number];
