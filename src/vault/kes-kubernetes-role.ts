// KES's Vault role of the Kubernetes auth method (spec.vault.kesAuth: Kubernetes): bound to exactly
// the ServiceAccount the operator made for KES in the deployment's namespace and to one audience,
// granting the same least-privilege KES policy as the AppRole role. The auth method itself (mount
// and its config: API server address, CA, token reviewer) is the Vault administrator's
// (docs/vault.md); the operator only checks that it is there and is a Kubernetes auth method.
import type { VaultClient } from './client.ts';
import { type RemovalReport, VAULT_NAME_CONFLICT } from './ownership.ts';
import * as vault from './operations.ts';
import { type KesTokenFields, kesTokenFields, roleDifferences } from './role.ts';
import type { KesAuthSettings, VaultSettings } from './settings.ts';

type KubernetesKesAuth = Extract<KesAuthSettings, { method: 'Kubernetes' }>;

export interface KubernetesRole extends KesTokenFields {
  bound_service_account_names: string[];
  bound_service_account_namespaces: string[];
  audience: string;
}

/** The role's fields the operator owns; no glob, so no other ServiceAccount or namespace logs in. */
export function desiredKubernetesRole(settings: VaultSettings, auth: KubernetesKesAuth): KubernetesRole {
  return {
    bound_service_account_names: [auth.serviceAccount],
    bound_service_account_namespaces: [settings.deployment.namespace],
    audience: auth.audience,
    // The same token as the AppRole role's: KES logs in again when a renewal fails; the policy carries renew-self.
    ...kesTokenFields(settings.objectName, settings.appRole.tokenTTLSeconds, settings.appRole.tokenMaxTTLSeconds),
  };
}

/** Why KES's Kubernetes role cannot be made; the reconcile reports it as VaultConfigured's reason. */
export class KesKubernetesRoleProblem extends Error {
  constructor(
    readonly reason: 'KubernetesAuthMountMissing' | typeof VAULT_NAME_CONFLICT,
    message: string,
  ) {
    super(message);
  }
}

/** Creates or updates KES's Kubernetes role; a role granting another deployment's policy is left alone. */
export async function ensureKesKubernetesRole(client: VaultClient, token: string, settings: VaultSettings,
  changes: string[]): Promise<void>
{
  const auth = settings.kesAuth;
  if (auth.method !== 'Kubernetes') return;
  const mount = await vault.readAuthMount(client, token, auth.mountPath);
  if (!mount || mount.type !== 'kubernetes') {
    throw new KesKubernetesRoleProblem(
      'KubernetesAuthMountMissing',
      `spec.vault.kesAuth is Kubernetes but ${
        mount
          ? `auth/${auth.mountPath} is a "${mount.type}" auth method`
          : `no auth method is mounted at auth/${auth.mountPath}`
      }; ` +
        'a Vault administrator enables and configures the Kubernetes auth method there (docs/vault.md), or set spec.vault.kesKubernetes.mountPath',
    );
  }
  const name = settings.objectName;
  const stored = await vault.readRole(client, token, auth.mountPath, name);
  const foreign = stored ? otherPolicies(stored, name) : [];
  if (foreign.length > 0) {
    throw new KesKubernetesRoleProblem(VAULT_NAME_CONFLICT,
      `Kubernetes role ${name} on auth/${auth.mountPath} grants ${
        foreign.join(', ')
      }, so it is another KMSDeployment's; nothing was changed; if it is a leftover, a Vault admin deletes it`);
  }
  const desired = desiredKubernetesRole(settings, auth);
  const differences = roleDifferences(stored, desired);
  if (differences.length === 0) return;
  await vault.writeRole(client, token, auth.mountPath, name, { ...desired });
  changes.push(
    stored
      ? `updated Kubernetes role ${name} on auth/${auth.mountPath} (${differences.join(', ')})`
      : `created Kubernetes role ${name} on auth/${auth.mountPath}, bound to ServiceAccount ${settings.deployment.namespace}/${auth.serviceAccount}`,
  );
}

function otherPolicies(role: Record<string, unknown>, policyName: string): string[] {
  const policies = Array.isArray(role['token_policies']) ? role['token_policies'].map(String) : [];
  return policies.filter((p) => p !== policyName && p.startsWith('kmsstack'));
}

/** Deletes KES's Kubernetes role on `mountPath` if it is there and grants only this deployment's policy. */
export async function removeKesKubernetesRole(client: VaultClient, token: string, settings: VaultSettings,
  mountPath: string): Promise<RemovalReport>
{
  const name = settings.objectName;
  const mount = await vault.readAuthMount(client, token, mountPath);
  const stored = mount ? await vault.readRole(client, token, mountPath, name) : undefined;
  if (!stored) return { done: [], kept: [] };
  const foreign = otherPolicies(stored, name);
  if (foreign.length > 0) {
    return { done: [], kept: [
      `kept Kubernetes role ${name} on auth/${mountPath}: it grants ${foreign.join(', ')}, another KMSDeployment's`,
    ] };
  }
  await vault.deleteRole(client, token, mountPath, name);
  return { done: [`deleted Kubernetes role ${name} on auth/${mountPath}`], kept: [] };
}
