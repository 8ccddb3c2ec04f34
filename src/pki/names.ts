// What the PKI of one KMSDeployment is called: Secret names, certificate subjects, KES server SANs.
import type { DistinguishedName } from './issue.ts';

/** Every leaf certificate a KMSDeployment may have; which ones it has depends on its spec (PkiDesired.kinds). */
export const leafKinds = ['kesServer', 'minioClient', 'operatorClient', 'minioServer'] as const;
export type LeafKind = (typeof leafKinds)[number];

/** The leaves of the KES chain (Vault mode): the KES server certificate and the two client identities. */
export const kesLeafKinds: readonly LeafKind[] = ['kesServer', 'minioClient', 'operatorClient'];

export const leafPurpose: Record<LeafKind, 'serverAuth' | 'clientAuth'> = {
  kesServer: 'serverAuth',
  minioClient: 'clientAuth',
  operatorClient: 'clientAuth',
  minioServer: 'serverAuth',
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
      minioServer: `${deployment}-minio-tls`,
    },
  };
}

/** The names MinIO and the operator may use to reach the KES Service `<name>-kes`. */
export function kesServerDnsNames(deployment: string, namespace: string,
  clusterDomain = defaultClusterDomain): string[]
{
  return serviceNames(`${deployment}-kes`, namespace, clusterDomain);
}

/** The four names of a Service: `svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.<domain>`. */
function serviceNames(service: string, namespace: string, clusterDomain: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.${clusterDomain}`];
}

/**
 * The names S3 clients and MinIO's own servers use: the client Service `<name>-minio`, the headless
 * Service `<name>-minio-hl`, and every per-pod name under it (`<pod>.<name>-minio-hl.<ns>.svc...`,
 * by which the servers of a distributed MinIO reach each other), the latter as wildcards: a
 * wildcard covers exactly one label, so pods of pools added later are covered without re-issuing.
 */
export function minioServerDnsNames(deployment: string, namespace: string,
  clusterDomain = defaultClusterDomain): string[]
{
  const headless = `${deployment}-minio-hl`;
  const perPod = serviceNames(headless, namespace, clusterDomain).slice(1).map((name) => `*.${name}`);
  return [...serviceNames(`${deployment}-minio`, namespace, clusterDomain),
    ...serviceNames(headless, namespace, clusterDomain), ...perPod];
}

// X.509 caps a common name at 64 characters; the namespace in OU keeps subjects apart across namespaces.
function subject(commonName: string, namespace: string): DistinguishedName {
  return { organization, organizationalUnit: namespace, commonName: commonName.slice(0, 64) };
}

export function caSubject(deployment: string, namespace: string): DistinguishedName {
  return subject(`${deployment}-ca`, namespace);
}

export function leafSubject(kind: LeafKind, deployment: string, namespace: string): DistinguishedName {
  const commonName =
    { kesServer: `${deployment}-kes`, minioClient: `${deployment}-minio`, operatorClient: organization,
      minioServer: `${deployment}-minio` }[kind];
  return subject(commonName, namespace);
}
