// The Vault policy a Vault admin grants the operator's own login (Kubernetes auth role or token):
// what reconcileVault and cleanupVault call, for the mounts and prefixes the admin allows.
// Rendered by `docs/vault.md` and proven by the integration tests, which run the operator with it.
import { checkVaultPath, type KvVersion } from './settings.ts';

export interface OperatorPolicyInput {
  /** KV mounts deployments may use, each with the path under which their prefixes must lie. */
  kvMounts: { mountPath: string; version: KvVersion; prefixRoot: string }[];
  appRoleMountPath: string;
  /** Allow enabling missing KV mounts (spec.vault.kv.create: true). */
  allowMountCreation: boolean;
  /** Allow deleting master keys (keyDeletionPolicy: Delete). */
  allowKeyDeletion: boolean;
}

function block(path: string, capabilities: string[], comment: string): string {
  return `# ${comment}\npath "${path}" {\n  capabilities = [${capabilities.map((c) => `"${c}"`).join(', ')}]\n}`;
}

export function renderOperatorPolicy(input: OperatorPolicyInput): string {
  const approle = checkVaultPath(input.appRoleMountPath, 'appRoleMountPath');
  const blocks: string[] = [];
  for (const kv of input.kvMounts) {
    const mount = checkVaultPath(kv.mountPath, 'kvMounts.mountPath');
    const root = checkVaultPath(kv.prefixRoot, 'kvMounts.prefixRoot');
    blocks.push(block(`sys/mounts/${mount}`, input.allowMountCreation ? ['create', 'read', 'update'] : ['read'], `Check (and create) the KV ${kv.version} mount ${mount}.`));
    if (input.allowKeyDeletion) {
      const keys = kv.version === 'v2' ? `${mount}/metadata/${root}/*` : `${mount}/${root}/*`;
      blocks.push(block(keys, ['list', 'delete'], 'Delete master keys of deleted KMSDeployments with keyDeletionPolicy: Delete.'));
    }
  }
  blocks.push(
    block(`sys/auth/${approle}`, ['create', 'read', 'update', 'sudo'], 'Check (and enable) the AppRole auth method; Vault requires sudo for sys/auth.'),
    block('sys/policies/acl/kmsstack-*', ['create', 'read', 'update', 'delete'], 'The per-deployment KES policies.'),
    block(`auth/${approle}/role/kmsstack-*`, ['create', 'read', 'update', 'delete', 'list'], 'The per-deployment AppRole roles: role-id, secret-id issue/list, destroy by accessor.'),
    block('auth/token/lookup-self', ['read'], "The operator's own token: TTL, and telling an expired token from a missing permission."),
    block('auth/token/renew-self', ['update'], "The operator's own token: renewal before it expires."),
  );
  return `# kmsstack-operator: what the operator itself may do in Vault.\n\n${blocks.join('\n\n')}\n`;
}
