// Names of what the operator creates in Vault and of the Secret KES reads its AppRole from.

/** Policy and AppRole role name of one KMSDeployment: `kmsstack-<namespace>-<name>`. */
export function vaultObjectName(namespace: string, name: string): string {
  return `kmsstack-${namespace}-${name}`;
}

/** The Secret holding `role-id` and `secret-id` for KES. */
export function appRoleSecretName(name: string): string {
  return `${name}-kes-vault-approle`;
}

export const APPROLE_SECRET_KEYS = { roleId: 'role-id', secretId: 'secret-id' } as const;

/** Non-secret metadata kept on the AppRole Secret (accessors identify secret-ids without revealing them). */
export const APPROLE_ANNOTATIONS = {
  accessor: 'kmsstack.io/secret-id-accessor',
  expiresAt: 'kmsstack.io/secret-id-expires-at',
  previousAccessor: 'kmsstack.io/previous-secret-id-accessor',
  checksum: 'kmsstack.io/approle-checksum',
} as const;

/** Pod-template annotation of KES that makes it roll when its AppRole credentials change. */
export const KES_APPROLE_CHECKSUM_ANNOTATION = 'kmsstack.io/vault-approle-checksum';

/** Lets a user release a KMSDeployment whose Vault objects cannot be cleaned up (handled by the runtime). */
export const SKIP_VAULT_CLEANUP_ANNOTATION = 'kmsstack.io/skip-vault-cleanup';

export const VAULT_CONDITION_TYPE = 'VaultConfigured';
