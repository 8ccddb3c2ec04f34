// Names of what the operator creates in Vault and of the Secret KES reads its AppRole from.

/** The operator instance of a single operator per Vault (--instance-name). */
export const DEFAULT_INSTANCE = 'default';

// A DNS label of at most 32 characters: no "_" (the separator of Vault object names below) and no
// "." or "/" (which would change the meaning of a name or a KV path).
const INSTANCE_RE = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

/** Checks an operator instance name; throws naming the setting. */
export function checkInstanceName(value: string): string {
  if (!INSTANCE_RE.test(value)) {
    throw new Error(
      `--instance-name: "${value}" must be 1-32 lower-case letters, digits or "-", starting and ending with a letter or digit`,
    );
  }
  return value;
}

// "_" separates the parts because none of them may contain it: the instance (above), a namespace
// (DNS label: a-z, 0-9, "-") and a KMSDeployment name (DNS subdomain: a-z, 0-9, "-", "."). So the
// name splits back into exactly one (instance, namespace, name), and no two deployments, in one
// cluster or in several operators on one Vault with distinct instance names, share a policy or role.
/** Policy and AppRole role name of one KMSDeployment: `kmsstack_<instance>_<namespace>_<name>`. */
export function vaultObjectName(namespace: string, name: string, instance: string = DEFAULT_INSTANCE): string {
  return `${vaultObjectNamePrefix(instance)}${namespace}_${name}`;
}

/** What every Vault object name of one operator instance starts with (its own policy's globs). */
export function vaultObjectNamePrefix(instance: string): string {
  return `kmsstack_${instance}_`;
}

/**
 * The name version 0.1 used, `kmsstack-<namespace>-<name>`: ambiguous (team/x-prod and
 * team-x/prod share it), so it is only read, to move a deployment's objects to the new name.
 */
export function legacyVaultObjectName(namespace: string, name: string): string {
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

/** The annotation that lets a user release a KMSDeployment whose Vault objects cannot be cleaned up (handled by the runtime). */
export const SKIP_VAULT_CLEANUP_ANNOTATION = 'kmsstack.io/skip-vault-cleanup';
