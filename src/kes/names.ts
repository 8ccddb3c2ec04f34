// Names of the KES objects of one KMSDeployment and where its files are mounted in the KES pods.
import { KES_PORT } from './api.ts';

export interface DeploymentRef {
  name: string;
  namespace: string;
}

export function kesNames(name: string) {
  return {
    /** Deployment and Service. */
    workload: `${name}-kes`,
    configSecret: `${name}-kes-config`,
  } as const;
}

/** The URL MinIO and the operator use to reach KES through its Service. */
export function kesEndpoint(ref: DeploymentRef, clusterDomain: string): string {
  return `https://${kesNames(ref.name).workload}.${ref.namespace}.svc.${clusterDomain}:${KES_PORT}`;
}

export const KES_CONFIG_KEY = 'config.yaml';

/** Paths inside the KES container; the config refers to them, the Deployment mounts them. */
export const kesMounts = {
  configDir: '/etc/kes/config',
  tlsDir: '/etc/kes/tls',
  vaultCaDir: '/etc/kes/vault-ca',
} as const;

export const kesFiles = {
  config: `${kesMounts.configDir}/${KES_CONFIG_KEY}`,
  tlsCert: `${kesMounts.tlsDir}/tls.crt`,
  tlsKey: `${kesMounts.tlsDir}/tls.key`,
  vaultCa: `${kesMounts.vaultCaDir}/ca.crt`,
} as const;

/** Env vars the KES config references for the AppRole login, filled from the AppRole Secret. */
export const KES_APPROLE_ENV = { roleId: 'KES_VAULT_ROLE_ID', secretId: 'KES_VAULT_SECRET_ID' } as const;
