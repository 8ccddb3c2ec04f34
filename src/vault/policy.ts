// The Vault ACL policy KES gets through its AppRole: exactly the calls KES makes on its key store,
// confined to this deployment's KV prefix. Facts about KES (internal/keystore/vault):
//   create  -> read <entry> to refuse overwriting, then write it (KV v2: data path, cas=0)
//   get     -> read <entry>                                   (KV v2: data path)
//   delete  -> delete <entry>                                 (KV v2: metadata path, all versions)
//   list    -> list <mount>/<prefix>                          (KV v2: metadata path)
//   token   -> auth/token/renew-self before its token expires; login and sys/health need no policy.
// KES never updates an existing entry, so "update" is not granted: a stolen secret-id cannot
// overwrite a master key. "delete" is granted only under keyDeletionPolicy: Delete, where the
// finalizer also deletes the keys with this role's own login; under Retain no holder of the
// secret-id can destroy a master key. The role sets token_no_default_policy, so renew-self is granted here.
import { checkVaultPath, type KvVersion } from './settings.ts';

/** spec.keyDeletionPolicy: what the finalizer does with the master keys. */
export type KeyDeletionPolicy = 'Retain' | 'Delete';

export interface KesPolicyInput {
  /** KMSDeployment namespace and name, for the header comment only. */
  deployment: { namespace: string; name: string };
  /** The owner record (src/vault/ownership.ts) the operator checks before it rewrites or deletes the policy. */
  owner?: string;
  kvMountPath: string;
  kvVersion: KvVersion;
  prefix: string;
  /** keyDeletionPolicy: Delete; without it the policy grants no delete. */
  allowKeyDeletion: boolean;
}

export interface PolicyRule {
  path: string;
  capabilities: string[];
}

/** The header line of a KES policy that records which KMSDeployment the policy belongs to. */
export const OWNER_LINE_PREFIX = '# owner: ';

/** The first line of every KES policy; version 0.1 policies had nothing else to say whose they are. */
export function policyTitle(deployment: { namespace: string; name: string }, kvVersion: KvVersion): string {
  return `# KES key store access for KMSDeployment ${deployment.namespace}/${deployment.name} (KV ${kvVersion}).`;
}

/** The rules of the KES policy, in the order they are rendered. */
export function kesPolicyRules(
  input: Pick<KesPolicyInput, 'kvMountPath' | 'kvVersion' | 'prefix' | 'allowKeyDeletion'>,
): PolicyRule[] {
  const mount = checkVaultPath(input.kvMountPath, 'spec.vault.kv.mountPath');
  const prefix = checkVaultPath(input.prefix, 'spec.vault.kv.prefix');
  const remove = input.allowKeyDeletion ? ['delete'] : [];
  const keyRules: PolicyRule[] = input.kvVersion === 'v2'
    ? [
      { path: `${mount}/data/${prefix}/*`, capabilities: ['create', 'read'] },
      { path: `${mount}/metadata/${prefix}/*`, capabilities: [...remove, 'list'] },
    ]
    : [{ path: `${mount}/${prefix}/*`, capabilities: ['create', 'read', ...remove, 'list'] }];
  return [...keyRules, { path: 'auth/token/renew-self', capabilities: ['update'] }];
}

/** HCL text of the policy, byte-for-byte stable so the stored policy can be compared with it. */
export function renderKesPolicy(input: KesPolicyInput): string {
  const header = [
    policyTitle(input.deployment, input.kvVersion),
    '# Managed by kmsstack-operator: changes made here are overwritten.',
    ...(input.owner ? [`${OWNER_LINE_PREFIX}${input.owner}`] : []),
  ];
  const blocks = kesPolicyRules(input).map((rule) =>
    [`path "${rule.path}" {`, `  capabilities = [${rule.capabilities.map((c) => `"${c}"`).join(', ')}]`, '}'].join('\n')
  );
  return `${header.join('\n')}\n\n${blocks.join('\n\n')}\n`;
}
