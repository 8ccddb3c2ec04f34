// The certificates KES and MinIO pods mount, as one checksum on their pod templates: the PKI step
// reads it back to learn whether a rollout finished (a CA rotation advances only then), and the KES
// and MinIO steps stamp it, so a renewed certificate rolls the pods that mount it.
import type { DefaultedKMSDeploymentSpec } from '../api/index.ts';
import { kesLeafKinds, type LeafKind, pkiSecretNames, secretsChecksum } from '../pki/index.ts';
import { decodeSecretData } from '../runtime/kube/secret-data.ts';
import { CONFIG_CHECKSUM_ANNOTATION } from './labels.ts';
import { rolloutOf } from './rollout.ts';

/**
 * Pod-template annotation of the KES Deployment and the MinIO StatefulSet: the checksum of the
 * certificates and trust bundle their pods mount (secretsChecksum). A workload whose template carries
 * the checksum of the Secrets as they are now, with its rollout complete, runs the current material.
 */
export const CERTIFICATES_CHECKSUM_ANNOTATION = 'kmsstack.io/certificates-checksum';

export type PkiWorkload = 'kes' | 'minio';

type CertificateSpec = Pick<DefaultedKMSDeploymentSpec, 'mode' | 'minio' | 'kes'>;

/** The server certificates a user may bring, and the spec field that names the Secret. */
export const userCertificateFields = {
  kesServer: 'spec.kes.tls.certificateSecretRef',
  minioServer: 'spec.minio.tls.certificateSecretRef',
} as const satisfies Partial<Record<LeafKind, string>>;

export type UserCertificateKind = keyof typeof userCertificateFields;

/** The user's Secret that holds the `kind` server certificate, when the spec names one. */
export function userCertificateSecret(spec: CertificateSpec, kind: LeafKind): string | undefined {
  if (kind === 'kesServer') return spec.mode === 'Vault' ? spec.kes?.tls?.certificateSecretRef?.name : undefined;
  if (kind === 'minioServer') return spec.minio.tls.enabled ? spec.minio.tls.certificateSecretRef?.name : undefined;
  return undefined;
}

/** The Secret pods mount the `kind` certificate from: the user's, else the one the operator issues. */
export function certificateSecretName(spec: CertificateSpec, deployment: string, kind: LeafKind): string {
  return userCertificateSecret(spec, kind) ?? pkiSecretNames(deployment).leaves[kind];
}

/** The leaf certificates (with their trust bundle) the pods of each workload mount. */
export function mountedLeaves(spec: CertificateSpec, workload: PkiWorkload): LeafKind[] {
  const vault = spec.mode === 'Vault';
  if (workload === 'kes') return vault ? ['kesServer'] : [];
  return [...(vault ? ['minioClient' as const] : []), ...(spec.minio.tls.enabled ? ['minioServer' as const] : [])];
}

/** The leaf certificates the operator issues for `spec` (the PKI step's PkiDesired.kinds). */
export function wantedLeafKinds(spec: CertificateSpec): LeafKind[] {
  const kinds = [...(spec.mode === 'Vault' ? kesLeafKinds : []),
    ...(spec.minio.tls.enabled ? ['minioServer' as const] : [])];
  return kinds.filter((kind) => userCertificateSecret(spec, kind) === undefined);
}

/** A Secret by name: the one this reconcile declared, else the cached one. */
export type SecretLookup = (name: string) => unknown;

/** The data of a Secret object; {} for one without data, undefined for none. */
export function secretData(secret: unknown): Record<string, string> | undefined {
  return (secret as { data?: Record<string, string> } | undefined)?.data ?? (secret ? {} : undefined);
}

/**
 * secretsChecksum of the certificate Secrets `workload` mounts (the user's where the spec names one),
 * read through `lookup` (the Secrets this reconcile declared or validated, else the cached ones);
 * undefined when the workload mounts none. A user's certificate that changes changes it, so the pods roll.
 */
export function mountedCertificatesChecksum(spec: DefaultedKMSDeploymentSpec, deployment: string, workload: PkiWorkload,
  lookup: SecretLookup): string | undefined
{
  const kinds = mountedLeaves(spec, workload);
  if (kinds.length === 0) return undefined;
  const leaves = Object.fromEntries(
    kinds.map((kind) => [kind, decodeSecretData(secretData(lookup(certificateSecretName(spec, deployment, kind))))]),
  );
  return secretsChecksum(leaves, kinds);
}

interface PodTemplateHolder {
  spec?: { template?: { metadata?: { annotations?: Record<string, string> } } };
}

/** `workload` with the certificates checksum on its pod template (unchanged when there is none). */
export function withCertificatesChecksum<T extends PodTemplateHolder>(workload: T, checksum: string | undefined): T {
  if (checksum === undefined || !workload.spec?.template) return workload;
  const template = workload.spec.template;
  const annotations = { ...template.metadata?.annotations, [CERTIFICATES_CHECKSUM_ANNOTATION]: checksum };
  return { ...workload,
    spec: { ...workload.spec, template: { ...template, metadata: { ...template.metadata, annotations } } } };
}

/**
 * Whether every pod of a workload (as cached) runs the certificates whose checksum is `checksum`: the
 * pod template carries it and the rollout of that template is complete. No workload means no pods.
 */
export function workloadSettled(kind: 'Deployment' | 'StatefulSet', live: unknown, checksum: string): boolean {
  if (!live) return true;
  const view = live as PodTemplateHolder & { spec?: { replicas?: number } };
  // A template without a config checksum is not one the operator wrote.
  if (view.spec?.template?.metadata?.annotations?.[CONFIG_CHECKSUM_ANNOTATION] === undefined) return false;
  return rolloutOf(kind, live, view.spec?.replicas ?? 1, checksum, CERTIFICATES_CHECKSUM_ANNOTATION).ready;
}
