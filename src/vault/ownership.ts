// Whose a Vault policy or AppRole role is. The operator writes and deletes policies and roles with
// a broad identity, and a name alone is not proof: another cluster's operator with the same
// --instance-name makes the same names. Vault 1.13 roles carry no metadata, so the record lives in
// the policy (a header line naming the operator instance, the KMSDeployment and its uid). A policy
// recording another owner is another KMSDeployment's; one recording none (a hand edit) is repaired,
// since within an instance the name is this deployment's alone. A role is another's when it grants
// another deployment's policy (a kmsstack name other than this one's), or when its policy is.
// Nothing that is another's is written or deleted.
import type { VaultClient } from './client.ts';
import * as vault from './operations.ts';
import { kesPolicyRules, OWNER_LINE_PREFIX, policyTitle } from './policy.ts';
import type { VaultSettings } from './settings.ts';
import { ConditionReason } from '../api/reasons.ts';

/** The condition reason (and Warning event reason) when a name belongs to someone else. */
export const VAULT_NAME_CONFLICT = ConditionReason.VaultNameConflict;

/** The owner record written into this deployment's KES policy. */
export function ownerRecord(settings: Pick<VaultSettings, 'instance' | 'deployment'>): string {
  const { namespace, name, uid } = settings.deployment;
  return `kmsstack-operator instance=${settings.instance} deployment=${namespace}/${name} uid=${uid ?? 'unknown'}`;
}

/** The owner record in a stored policy, or undefined when it has none (hand-written or version 0.1). */
export function recordedOwner(policy: string): string | undefined {
  const line = policy.split('\n').find((l) => l.startsWith(OWNER_LINE_PREFIX));
  return line?.slice(OWNER_LINE_PREFIX.length).trim();
}

function onlyPolicy(role: Record<string, unknown>, policyName: string): boolean {
  const policies = role['token_policies'];
  return Array.isArray(policies) && policies.length === 1 && String(policies[0]) === policyName;
}

/** A policy another KMSDeployment owns: one recording an owner that is not this deployment. */
function ownedByAnother(policy: string | undefined, settings: VaultSettings): boolean {
  const owner = policy === undefined ? undefined : recordedOwner(policy);
  return owner !== undefined && owner !== ownerRecord(settings);
}

/** The kmsstack-made policies (current or 0.1 names) other than `policyName` that a role grants. */
function othersPolicies(role: Record<string, unknown>, policyName: string): string[] {
  const policies = Array.isArray(role['token_policies']) ? role['token_policies'].map(String) : [];
  return policies.filter((p) => p !== policyName && p.startsWith('kmsstack'));
}

function describeOwner(policy: string | undefined): string {
  const owner = policy === undefined ? undefined : recordedOwner(policy);
  return owner ? `it belongs to ${owner}` : 'it records no kmsstack-operator owner';
}

/**
 * Why the policy or role named settings.objectName is not this deployment's, or undefined when
 * each is either absent or its own. Read-only; checked before the operator writes either.
 */
export async function nameConflict(client: VaultClient, token: string,
  settings: VaultSettings): Promise<string | undefined>
{
  const name = settings.objectName;
  const policy = await vault.readPolicy(client, token, name);
  const hint =
    'nothing of it was changed; if it is a leftover, a Vault admin deletes it, otherwise give this operator its own --instance-name';
  if (ownedByAnother(policy, settings)) {
    return `Vault policy ${name} exists and is not this KMSDeployment's (${describeOwner(policy)}, this is ${
      ownerRecord(settings)
    }); ${hint}`;
  }
  const role = await vault.readRole(client, token, settings.appRole.mountPath, name);
  const foreign = role ? othersPolicies(role, name) : [];
  if (foreign.length > 0) {
    return `AppRole role ${name} on auth/${settings.appRole.mountPath} exists and grants ${
      foreign.join(', ')
    }, so it is another KMSDeployment's; ${hint}`;
  }
  return undefined;
}

/** What a removal did (`done`) and what it left because it is not provably this deployment's (`kept`), as status and event lines. */
export interface RemovalReport {
  done: string[];
  kept: string[];
}

/** Deletes the role and policy named settings.objectName where they are this deployment's; reports the rest. */
export async function deleteOwnedObjects(client: VaultClient, token: string,
  settings: VaultSettings): Promise<RemovalReport>
{
  const name = settings.objectName;
  const mount = settings.appRole.mountPath;
  const done: string[] = [];
  const kept: string[] = [];
  const policy = await vault.readPolicy(client, token, name);
  const policyMine = !ownedByAnother(policy, settings);
  if (!policyMine) {
    kept.push(
      `kept Vault policy ${name} and AppRole role ${name}: ${describeOwner(policy)}, not to ${ownerRecord(settings)}`,
    );
  }
  const role = (await vault.readAuthMount(client, token, mount))
    ? await vault.readRole(client, token, mount, name)
    : undefined;
  if (role && policyMine) {
    const foreign = othersPolicies(role, name);
    if (foreign.length === 0) {
      await vault.deleteRole(client, token, mount, name);
      done.push(`deleted AppRole role ${name} and its secret-ids`);
    } else {
      kept.push(`kept AppRole role ${name} on auth/${mount}: it grants ${foreign.join(', ')}, another KMSDeployment's`);
    }
  }
  if (policy !== undefined && policyMine) {
    await vault.deletePolicy(client, token, name);
    done.push(`deleted policy ${name}`);
  }
  return { done, kept };
}

/** status.vault as last written; while it names the version 0.1 objects, they are still to be moved. */
export interface RecordedVaultNames {
  policy?: string;
  role?: string;
}

export function legacyObjectsPending(settings: VaultSettings, recorded: RecordedVaultNames | undefined): boolean {
  const legacy = settings.legacyObjectName;
  return legacy !== settings.objectName && (recorded?.policy === legacy || recorded?.role === legacy);
}

/**
 * True when a version 0.1 policy is provably this deployment's: it names this KMSDeployment in its
 * title and grants nothing but this deployment's prefix. With the ambiguous 0.1 name, team/x-prod and
 * team-x/prod wrote the same policy in turn; its text tells which of them wrote it last.
 */
export function isLegacyPolicyOf(policy: string, settings: VaultSettings): boolean {
  const lines = policy.split('\n');
  if (lines[0] !== policyTitle(settings.deployment, settings.kv.version) || recordedOwner(policy) !== undefined) {
    return false;
  }
  const granted = [...policy.matchAll(/^path "([^"]*)"/gm)].map((m) => m[1]);
  // The paths do not depend on keyDeletionPolicy (only the capabilities do).
  const allowed = new Set(
    kesPolicyRules({ kvMountPath: settings.kv.mountPath, kvVersion: settings.kv.version, prefix: settings.kv.prefix,
      allowKeyDeletion: true }).map((r) => r.path),
  );
  return granted.length > 0 && granted.every((path) => allowed.has(path as string));
}

/**
 * Removes the version 0.1 role and policy (settings.legacyObjectName) once this deployment no longer
 * needs them, if they are provably its own (isLegacyPolicyOf; the role only if it grants just that
 * policy). Role first, so an interrupted removal leaves the proof (the policy) for the next try.
 */
export async function removeLegacyObjects(client: VaultClient, token: string,
  settings: VaultSettings): Promise<RemovalReport>
{
  const name = settings.legacyObjectName;
  const mount = settings.appRole.mountPath;
  const policy = await vault.readPolicy(client, token, name);
  const role = (await vault.readAuthMount(client, token, mount))
    ? await vault.readRole(client, token, mount, name)
    : undefined;
  if (policy === undefined && role === undefined) return { done: [], kept: [] };
  const { namespace, name: deploymentName } = settings.deployment;
  if (policy === undefined || !isLegacyPolicyOf(policy, settings)) {
    return {
      done: [],
      kept: [
        `left the version 0.1 policy and AppRole role ${name} in Vault: the policy does not name KMSDeployment ${namespace}/${deploymentName} ` +
        `with only its prefix ${settings.kv.mountPath}/${settings.kv.prefix}, so it may be another deployment's (the 0.1 name was ambiguous); ` +
        'a Vault admin deletes them once no KES uses them',
      ],
    };
  }
  const done: string[] = [];
  const kept: string[] = [];
  if (role && onlyPolicy(role, name)) {
    await vault.deleteRole(client, token, mount, name);
    done.push(`deleted the version 0.1 AppRole role ${name} and its secret-ids`);
  } else if (role) {
    kept.push(`left the version 0.1 AppRole role ${name} in Vault: it grants other policies than ${name}`);
  }
  await vault.deletePolicy(client, token, name);
  done.push(`deleted the version 0.1 policy ${name}`);
  return { done, kept };
}
