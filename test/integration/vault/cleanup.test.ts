// Finalizer cleanup against a real Vault: role and policy go, keys stay unless keyDeletionPolicy is
// Delete (then only this deployment's keys go); an unreachable Vault fails the cleanup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupVault, describeVaultLeftovers } from '../../../src/vault/cleanup.ts';
import { reconcileVault } from '../../../src/vault/reconcile.ts';
import { VaultRequestError } from '../../../src/vault/errors.ts';
import type { KvVersion } from '../../../src/vault/settings.ts';
import { suiteFixture } from '../../support/suite.ts';
import { KesLikeClient, readAppRoleCredentials, settingsFor, startVaultSuiteStack } from './fixture.ts';

const NS = 'cleanup';

const stack = suiteFixture(() => startVaultSuiteStack(NS, { persistent: true }));

/** Sets up a deployment and stores `keys` under its prefix through its own AppRole, as KES would. */
async function deploymentWithKeys(name: string, kvVersion: KvVersion, keys: string[]) {
  const settings = settingsFor(stack.vault, NS, name, { kvVersion, tls: { caSecretRef: { name: 'vault-ca', key: 'ca.crt' } } });
  const outcome = await reconcileVault(stack.deps, { settings, labels: {}, ownerReferences: [], now: new Date() });
  assert.equal(outcome.condition.reason, 'Configured', outcome.condition.message);
  const { roleId, secretId } = await readAppRoleCredentials(stack.kube, NS, name);
  const kes = await KesLikeClient.login(stack.vault, roleId, secretId, settings.kv.mountPath, kvVersion);
  for (const key of keys) await kes.create(`${settings.kv.prefix}/${key}`, `value-of-${key}`);
  return { settings, kes };
}

async function exists(path: string): Promise<boolean> {
  return (await stack.vault.request('GET', path)).status === 200;
}

for (const kvVersion of ['v1', 'v2'] as const) {
  test(`KV ${kvVersion}: Retain deletes role and policy and keeps the keys`, async () => {
    const name = `retain-${kvVersion}`;
    const { settings } = await deploymentWithKeys(name, kvVersion, ['minio-key-1']);
    const { done } = await cleanupVault(stack.deps, settings, 'Retain', new Date());
    assert.deepEqual(done, [`deleted AppRole role ${settings.objectName} and its secret-ids`, `deleted policy ${settings.objectName}`]);
    assert.equal(await exists(`auth/approle/role/${settings.objectName}`), false);
    assert.equal(await exists(`sys/policies/acl/${settings.objectName}`), false);
    const keyPath = kvVersion === 'v2' ? `kv2/data/${settings.kv.prefix}/minio-key-1` : `kv/${settings.kv.prefix}/minio-key-1`;
    assert.equal(await exists(keyPath), true, 'the master key is kept');
    assert.deepEqual((await cleanupVault(stack.deps, settings, 'Retain', new Date())).done, [], 'a second cleanup finds nothing to do');
  });

  test(`KV ${kvVersion}: Delete deletes only this deployment's keys, logged in as its own AppRole role`, async () => {
    // Reconciled under Retain: the cleanup first gives the role's policy delete, then uses it.
    const mine = await deploymentWithKeys(`delete-${kvVersion}`, kvVersion, ['k1', 'k2']);
    const theirs = await deploymentWithKeys(`keep-${kvVersion}`, kvVersion, ['k1']);
    await stack.vault.enableAudit();
    const from = stack.vault.auditedRequests().length;
    const { done, skippedNames } = await cleanupVault(stack.deps, mine.settings, 'Delete', new Date());
    assert.ok(done.includes(`deleted key ${mine.settings.kv.mountPath}/${mine.settings.kv.prefix}/k1`), done.join('\n'));
    assert.deepEqual(skippedNames, []);
    const kvRequests = stack.vault.auditedRequests().slice(from).filter((r) => r.path.startsWith(`${mine.settings.kv.mountPath}/`));
    assert.equal(kvRequests.filter((r) => r.operation === 'delete').length, 2);
    for (const request of kvRequests) assert.deepEqual(request.policies, [mine.settings.objectName], `${request.operation} ${request.path} ran as the deployment's role`);
    assert.deepEqual(await theirs.kes.list(theirs.settings.kv.prefix), ['k1']);
    assert.equal(await theirs.kes.read(`${theirs.settings.kv.prefix}/k1`), 'value-of-k1');
    const left = await stack.vault.request('GET', `${kvVersion === 'v2' ? 'kv2/metadata' : 'kv'}/${mine.settings.kv.prefix}?list=true`);
    assert.equal(left.status, 404, 'no keys left under the deleted deployment prefix');
  });
}

test('cleanup fails while Vault is unreachable, and succeeds once it is back', async () => {
  const { settings } = await deploymentWithKeys('unreachable', 'v1', []);
  await stack.vault.halt();
  try {
    await assert.rejects(cleanupVault(stack.deps, settings, 'Retain', new Date()), (err: unknown) => err instanceof VaultRequestError && err.reason === 'Unreachable');
  } finally {
    await stack.vault.start();
  }
  assert.deepEqual((await cleanupVault(stack.deps, settings, 'Retain', new Date())).done, [
    `deleted AppRole role ${settings.objectName} and its secret-ids`,
    `deleted policy ${settings.objectName}`,
  ]);
});

test('the leftover description names what stays in Vault, and no secret', () => {
  const settings = settingsFor(stack.vault, NS, 'skipped');
  const text = describeVaultLeftovers(settings, 'Retain');
  assert.match(text, /policy kmsstack_default_cleanup_skipped, AppRole role kmsstack_default_cleanup_skipped on auth\/approle .* master keys under kv\/kmsstack\/cleanup\/skipped/);
});
