// Finalizer cleanup of one KMSDeployment in Vault: the AppRole role (with its secret-ids) and the
// policy go; master keys stay unless keyDeletionPolicy is Delete, and then only the keys directly
// under this deployment's own prefix are deleted. Mounts are shared and never removed.
// Keys are listed and deleted with a login as the deployment's own AppRole role (a fresh, single-use,
// short-lived secret-id the operator issues, so neither the tenant-writable AppRole Secret nor an
// expired secret-id matters), whose policy covers this prefix only: the operator's own Vault policy
// needs no list or delete on the KV mounts, and a name that came back from Vault's LIST cannot
// reach another prefix. Names that KES could not have made are never sent back; they are reported.
// Failures are thrown (VaultRequestError / MissingSecretError) so the runtime reports them and retries.
import type { VaultClient } from './client.ts';
import { connectVault, type VaultDeps } from './connect.ts';
import { VaultRequestError } from './errors.ts';
import * as vault from './operations.ts';
import { deleteOwnedObjects, legacyObjectsPending, nameConflict, type RecordedVaultNames,
  removeLegacyObjects } from './ownership.ts';
import { removeKesKubernetesRole } from './kes-kubernetes-role.ts';
import { quoteUntrusted } from './paths.ts';
import { kesKeyNameProblem } from '../api/key-name.ts';
import type { KeyDeletionPolicy } from './policy.ts';
import { ensurePolicy } from './reconcile.ts';
import type { VaultSettings } from './settings.ts';

export type { KeyDeletionPolicy };

/** What the cleanup did (for Normal events) and what it left for a person to look at (Warning events). */
export interface CleanupReport {
  done: string[];
  /** Entries under the prefix whose names are not KES key names: left in place, never sent back to Vault. */
  skippedNames: string[];
  /** Why keys were kept despite keyDeletionPolicy: Delete, if they were. */
  keysRetained: string | undefined;
  /** Policies and roles under this deployment's names that are not provably its own: left in place. */
  kept: string[];
}

/** Lifetime of the finalizer's own secret-id: long enough for one login, then useless. */
const CLEANUP_SECRET_ID = { ttlSeconds: 60, uses: 1 } as const;

/**
 * Removes what the operator created for the deployment; returns what it did and what it left, for
 * events. Only a policy and role that are this deployment's are used or deleted (src/vault/ownership.ts).
 * `recorded`: status.vault, which names the version 0.1 objects while they have not been moved yet.
 */
export async function cleanupVault(
  deps: VaultDeps,
  settings: VaultSettings,
  keyDeletionPolicy: KeyDeletionPolicy,
  now: Date,
  recorded?: RecordedVaultNames & { kubernetesRoleMount?: string },
): Promise<CleanupReport> {
  const { client, token } = await connectVault(deps, settings, now);
  const report: CleanupReport = { done: [], skippedNames: [], keysRetained: undefined, kept: [] };
  const { mountPath: appRoleMount } = settings.appRole;
  const mountExists = Boolean(await vault.readAuthMount(client, token, appRoleMount));
  const conflict = mountExists ? await nameConflict(client, token, settings) : undefined;
  const roleExists = mountExists && !conflict &&
    Boolean(await vault.readRole(client, token, appRoleMount, settings.objectName));
  if (keyDeletionPolicy === 'Delete') {
    if (roleExists) await deleteKeysAsRole(client, token, settings, report);
    else if (conflict) {
      report.keysRetained = `the keys under ${settings.kv.mountPath}/${settings.kv.prefix} stay: ${conflict}`;
    } else {report.keysRetained =
        `the AppRole role ${settings.objectName} the keys are deleted with does not exist, so the keys under ${settings.kv.mountPath}/${settings.kv.prefix} stay`;}
  }
  // KES's Kubernetes role goes before the policy it grants, like the AppRole role.
  const kubernetesMounts = new Set([settings.kesAuth.method === 'Kubernetes' ? settings.kesAuth.mountPath : undefined,
    recorded?.kubernetesRoleMount]);
  for (const mount of kubernetesMounts) {
    if (!mount) continue;
    const removed = await removeKesKubernetesRole(client, token, settings, mount);
    report.done.push(...removed.done);
    report.kept.push(...removed.kept);
  }
  const owned = await deleteOwnedObjects(client, token, settings);
  const old = legacyObjectsPending(settings, recorded)
    ? await removeLegacyObjects(client, token, settings)
    : { done: [], kept: [] };
  report.done.push(...owned.done, ...old.done);
  report.kept.push(...owned.kept, ...old.kept);
  deps.sessions.forget(settings.deployment.namespace, settings.deployment.name);
  return report;
}

/** Logs in as the deployment's role (its policy first made to allow delete) and deletes the keys it lists. */
async function deleteKeysAsRole(client: VaultClient, operatorToken: string, settings: VaultSettings,
  report: CleanupReport): Promise<void>
{
  const { mountPath: appRoleMount } = settings.appRole;
  const role = settings.objectName;
  // keyDeletionPolicy may have become Delete after the last reconcile wrote the policy.
  await ensurePolicy(client, operatorToken, settings, 'Delete', report.done);
  const roleId = await vault.readRoleId(client, operatorToken, appRoleMount, role);
  const { namespace, name } = settings.deployment;
  const issued = await vault.generateSecretId(client, operatorToken, appRoleMount, role, {
    kmsstack_deployment: `${namespace}/${name}`,
    kmsstack_purpose: 'key-deletion',
  }, CLEANUP_SECRET_ID);
  const login = await vault.loginAppRole(client, appRoleMount, roleId, issued.secretId);
  if (!login.policies.includes(role)) {
    throw new VaultRequestError('PermissionDenied', `log in as AppRole role ${role}`,
      `log in as AppRole role ${role}: the token carries policies [${
        login.policies.join(', ')
      }], not ${role}; no key was deleted`);
  }
  const { mountPath: kvMount, version, prefix } = settings.kv;
  for (const key of await vault.listKvKeys(client, login.token, kvMount, version, prefix)) {
    // Entries ending in "/" are sub-folders: KES never makes them, so they are not this deployment's keys.
    if (key.endsWith('/')) continue;
    if (kesKeyNameProblem(key)) {
      report.skippedNames.push(key);
      continue;
    }
    await vault.deleteKvKey(client, login.token, kvMount, version, prefix, key);
    report.done.push(`deleted key ${kvMount}/${prefix}/${key}`);
  }
}

/** The Warning event note for entries that are not KES key names: how many, and a few safely quoted. */
export function describeSkippedNames(settings: VaultSettings, names: readonly string[]): string {
  const shown = names.slice(0, 3).map((name) => quoteUntrusted(name)).join(', ');
  const more = names.length > 3 ? ` and ${names.length - 3} more` : '';
  const one = names.length === 1;
  return (
    `${names.length} ${one ? 'entry' : 'entries'} under ${settings.kv.mountPath}/${settings.kv.prefix} ${
      one ? 'is' : 'are'
    } not named like KES keys ` +
    `and ${
      one ? 'was' : 'were'
    } left in place (${shown}${more}); KES never writes such names, so someone else did: check them with a Vault admin token`
  );
}

/** What stays in Vault when a user skips cleanup (kmsstack.io/skip-vault-cleanup), for the event that says so. */
export function describeVaultLeftovers(settings: VaultSettings, keyDeletionPolicy: KeyDeletionPolicy): string {
  const keys = keyDeletionPolicy === 'Delete' ? 'and any master keys not yet deleted' : 'and the master keys';
  return (
    `Vault cleanup skipped: policy ${settings.objectName}, AppRole role ${settings.objectName} on auth/${settings.appRole.mountPath} ` +
    `(with its secret-ids) ${keys} under ${settings.kv.mountPath}/${settings.kv.prefix} remain in ${settings.address}` +
    `${
      settings.vaultNamespace ? ` (namespace ${settings.vaultNamespace})` : ''
    }; remove them with a Vault admin token if they are no longer needed`
  );
}
