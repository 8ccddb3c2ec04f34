// Finalizer cleanup of one KMSDeployment in Vault: the AppRole role (with its secret-ids) and the
// policy go; master keys stay unless keyDeletionPolicy is Delete, and then only the keys directly
// under this deployment's own prefix are deleted. Mounts are shared and never removed.
// Failures are thrown (VaultRequestError / MissingSecretError) so the runtime reports them and retries.
import { connectVault, type VaultDeps } from './connect.ts';
import { VaultRequestError } from './errors.ts';
import * as vault from './operations.ts';
import type { VaultSettings } from './settings.ts';

export type KeyDeletionPolicy = 'Retain' | 'Delete';

async function ignoreMissing(call: () => Promise<void>): Promise<boolean> {
  try {
    await call();
    return true;
  } catch (err) {
    if (err instanceof VaultRequestError && err.reason === 'NotFound') return false;
    throw err;
  }
}

/** Removes what the operator created for the deployment; returns what it did, for events. */
export async function cleanupVault(deps: VaultDeps, settings: VaultSettings, keyDeletionPolicy: KeyDeletionPolicy, now: Date): Promise<string[]> {
  const { client, token } = await connectVault(deps, settings, now);
  const { mountPath: kvMount, version, prefix } = settings.kv;
  const done: string[] = [];
  if (keyDeletionPolicy === 'Delete') {
    const keys = await vault.listKvKeys(client, token, kvMount, version, prefix);
    // Entries ending in "/" are sub-folders: KES never makes them, so they are not this deployment's keys.
    for (const key of keys.filter((k) => !k.endsWith('/'))) {
      await vault.deleteKvKey(client, token, kvMount, version, prefix, key);
      done.push(`deleted key ${kvMount}/${prefix}/${key}`);
    }
  }
  const { mountPath: appRoleMount } = settings.appRole;
  if ((await vault.readAuthMount(client, token, appRoleMount)) && (await vault.readRole(client, token, appRoleMount, settings.objectName))) {
    await ignoreMissing(() => vault.deleteRole(client, token, appRoleMount, settings.objectName));
    done.push(`deleted AppRole role ${settings.objectName} and its secret-ids`);
  }
  if ((await vault.readPolicy(client, token, settings.objectName)) !== undefined) {
    await ignoreMissing(() => vault.deletePolicy(client, token, settings.objectName));
    done.push(`deleted policy ${settings.objectName}`);
  }
  deps.sessions.forget(settings.deployment.namespace, settings.deployment.name);
  return done;
}

/** For the event when a user skips cleanup (kmsstack.io/skip-vault-cleanup): what stays in Vault. */
export function describeVaultLeftovers(settings: VaultSettings, keyDeletionPolicy: KeyDeletionPolicy): string {
  const keys = keyDeletionPolicy === 'Delete' ? 'and any master keys not yet deleted' : 'and the master keys';
  return (
    `Vault cleanup skipped: policy ${settings.objectName}, AppRole role ${settings.objectName} on auth/${settings.appRole.mountPath} ` +
    `(with its secret-ids) ${keys} under ${settings.kv.mountPath}/${settings.kv.prefix} remain in ${settings.address}` +
    `${settings.vaultNamespace ? ` (namespace ${settings.vaultNamespace})` : ''}; remove them with a Vault admin token if they are no longer needed`
  );
}
