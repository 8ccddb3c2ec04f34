// What the PKI of one KMSDeployment is called: Secret names, certificate subjects, KES server SANs.
import type { DistinguishedName } from './issue.ts';

/** The leaf certificates of a KMSDeployment. */
export const leafKinds = ['kesServer', 'minioClient', 'operatorClient'] as const;
export type LeafKind = (typeof leafKinds)[number];

export const leafPurpose: Record<LeafKind, 'serverAuth' | 'clientAuth'> = {
  kesServer: 'serverAuth',
  minioClient: 'clientAuth',
  operatorClient: 'clientAuth',
};

export const defaultClusterDomain = 'cluster.local';
const organization = 'kmsstack-operator';

export interface PkiSecretNames {
  /** The operator's CA for this deployment (unused when spec.tls.caSecretRef names the user's CA). */
  ca: string;
  leaves: Record<LeafKind, string>;
}

export function pkiSecretNames(deployment: string): PkiSecretNames {
  return {
    ca: `${deployment}-ca`,
    leaves: {
      kesServer: `${deployment}-kes-tls`,
      minioClient: `${deployment}-minio-kes-identity`,
      operatorClient: `${deployment}-operator-kes-identity`,
    },
  };
}

/** The names MinIO and the operator may use to reach the KES Service `<name>-kes`. */
export function kesServerDnsNames(deployment: string, namespace: string, clusterDomain = defaultClusterDomain): string[] {
  const service = `${deployment}-kes`;
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.${clusterDomain}`];
}

// X.509 caps a common name at 64 characters; the namespace in OU keeps subjects apart across namespaces.
function subject(commonName: string, namespace: string): DistinguishedName {
  return { organization, organizationalUnit: namespace, commonName: commonName.slice(0, 64) };
}

export function caSubject(deployment: string, namespace: string): DistinguishedName {
  return subject(`${deployment}-ca`, namespace);
}

export function leafSubject(kind: LeafKind, deployment: string, namespace: string): DistinguishedName {
  const commonName = { kesServer: `${deployment}-kes`, minioClient: `${deployment}-minio`, operatorClient: organization }[kind];
  return subject(commonName, namespace);
}
