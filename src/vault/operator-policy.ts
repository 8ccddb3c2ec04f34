// The Vault policy a Vault admin grants the operator's own login (Kubernetes auth role or token):
// what reconcileVault and cleanupVault call, for the mounts and prefixes the admin allows.
// Nothing on the KV entries themselves: master keys of a keyDeletionPolicy: Delete deployment are
// listed and deleted with a login as that deployment's own AppRole role (src/vault/cleanup.ts),
// so no name or path confusion in the operator can reach another deployment's prefix.
// Rendered by `docs/vault.md` and proven by the integration tests, which run the operator with it.
import { checkInstanceName, vaultObjectNamePrefix } from './names.ts';
import { checkVaultPath, type KvVersion } from './settings.ts';

export interface OperatorPolicyInput {
  /** KV mounts deployments may use. */
  kvMounts: { mountPath: string; version: KvVersion }[];
  appRoleMountPath: string;
  /** Whether the operator may enable missing KV mounts (spec.vault.kv.create: true). */
  allowMountCreation: boolean;
  /** The operator's --instance-name: it may touch only policies and roles of its own instance. */
  instance: string;
  /** Also the version 0.1 names `kmsstack-*`, read and deleted once while moving to the new names. */
  legacyNames: boolean;
  /** Kubernetes auth mounts where the operator keeps KES's roles (spec.vault.kesAuth: Kubernetes); none by default. */
  kesKubernetesMounts?: string[];
}

function block(path: string, capabilities: string[], comment: string): string {
  return `# ${comment}\npath "${path}" {\n  capabilities = [${capabilities.map((c) => `"${c}"`).join(', ')}]\n}`;
}

export function renderOperatorPolicy(input: OperatorPolicyInput): string {
  const approle = checkVaultPath(input.appRoleMountPath, 'appRoleMountPath');
  const names = vaultObjectNamePrefix(checkInstanceName(input.instance));
  const blocks: string[] = [];
  for (const kv of input.kvMounts) {
    const mount = checkVaultPath(kv.mountPath, 'kvMounts.mountPath');
    blocks.push(
      block(`sys/mounts/${mount}`, input.allowMountCreation ? ['create', 'read', 'update'] : ['read'],
        `Check (and create) the KV ${kv.version} mount ${mount}.`),
    );
  }
  blocks.push(
    block(`sys/auth/${approle}`, ['create', 'read', 'update', 'sudo'],
      'Check (and enable) the AppRole auth method; Vault requires sudo for sys/auth.'),
    block(`sys/policies/acl/${names}*`, ['create', 'read', 'update', 'delete'],
      `The per-deployment KES policies of operator instance ${input.instance}.`),
    block(`auth/${approle}/role/${names}*`, ['create', 'read', 'update', 'delete', 'list'],
      "The per-deployment AppRole roles: role-id, secret-id issue/list, destroy by accessor (and the finalizer's own single-use login to delete keys)."),
  );
  for (const path of input.kesKubernetesMounts ?? []) {
    const k8s = checkVaultPath(path, 'kesKubernetesMounts');
    blocks.push(
      block(`sys/auth/${k8s}`, ['read', 'sudo'],
        `Check that the Kubernetes auth method for KES is mounted at ${k8s} (enabled and configured by a Vault admin; Vault requires sudo for sys/auth).`),
      block(`auth/${k8s}/role/${names}*`, ['create', 'read', 'update', 'delete'],
        'The per-deployment Kubernetes roles of KES, each bound to one ServiceAccount (spec.vault.kesAuth: Kubernetes).'),
    );
  }
  if (input.legacyNames) {
    blocks.push(
      block('sys/policies/acl/kmsstack-*', ['read', 'delete'],
        'Upgrade from 0.1: read and delete the old per-deployment policies (drop once every KMSDeployment reports the new names).'),
      block(`auth/${approle}/role/kmsstack-*`, ['read', 'delete'],
        'Upgrade from 0.1: read and delete the old per-deployment AppRole roles.'),
    );
  }
  blocks.push(
    block('auth/token/lookup-self', ['read'],
      "The operator's own token: TTL, and telling an expired token from a missing permission."),
    block('auth/token/renew-self', ['update'], "The operator's own token: renewal before it expires."),
  );
  return `# kmsstack-operator: what the operator itself may do in Vault.\n\n${blocks.join('\n\n')}\n`;
}
