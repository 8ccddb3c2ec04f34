// Where the files of one KMSDeployment's KES are mounted in the KES pods (the object names and the
// endpoint are src/workload/names.ts: MinIO and the Vault step address them too).

export const KES_CONFIG_KEY = 'config.yaml';

/** Paths inside the KES container; the config refers to them, the Deployment mounts them. */
export const kesMounts = {
  configDir: '/etc/kes/config',
  tlsDir: '/etc/kes/tls',
  vaultCaDir: '/etc/kes/vault-ca',
  /** The projected ServiceAccount token KES logs in to Vault with (spec.vault.kesAuth: Kubernetes). */
  vaultTokenDir: '/var/run/secrets/kes/vault',
} as const;

export const kesFiles = {
  config: `${kesMounts.configDir}/${KES_CONFIG_KEY}`,
  tlsCert: `${kesMounts.tlsDir}/tls.crt`,
  tlsKey: `${kesMounts.tlsDir}/tls.key`,
  vaultCa: `${kesMounts.vaultCaDir}/ca.crt`,
  // KES takes a jwt value with a "/" as a file, and reads it again at every login, so the token the
  // kubelet renews in place is picked up without a restart.
  vaultToken: `${kesMounts.vaultTokenDir}/token`,
} as const;

/** Env vars the KES config references for the AppRole login, filled from the AppRole Secret. */
export const KES_APPROLE_ENV = { roleId: 'KES_VAULT_ROLE_ID', secretId: 'KES_VAULT_SECRET_ID' } as const;
