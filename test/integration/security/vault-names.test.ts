// Attacks on the names of what the operator creates in Vault, run through the real operator runtime
// (Manager, informers, the Vault step and its finalizer) against a real kube-apiserver and a real
// Vault, with the operator logged in with only the documented operator policy (issue 17, holes 1, 8).
//  - Version 0.1 named policy and role `kmsstack-<namespace>-<name>`: team/x-prod and team-x/prod got
//    the same ones, so the second rewrote the first's policy to its own prefix, destroyed its
//    secret-ids as strays and deleted both on its own deletion.
//  - A policy or role that exists under a deployment's name but is not its own (another cluster with
//    the same --instance-name, a leftover) was overwritten and, on deletion, deleted.
//  - The one-owner-per-prefix rule compared spellings: a Vault namespace that Vault OSS ignores made
//    the same keys look like another place, so a second deployment got them (and, with
//    keyDeletionPolicy: Delete, deleted them on its deletion).
// Each test checks what Vault holds for the victim, not only what status says.
import { inNamespace, kmsDeployment, withSpec, withVault, withVaultFields } from '../../support/kmsdeployment.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resources, type KubeObject } from '../../../src/runtime/kube/resources.ts';
import { appRoleSecretName, vaultObjectName } from '../../../src/vault/names.ts';
import { renderKesPolicy } from '../../../src/vault/policy.ts';
import { startStack } from '../../support/stack.ts';
import { suiteFixture } from '../../support/suite.ts';
import { getKMSDeployment, waitFor } from '../runtime/harness.ts';
import { KesLikeClient, readAppRoleCredentials, vaultStageOnly } from '../vault/fixture.ts';

const stack = suiteFixture(() => startStack({ manager: vaultStageOnly }));

function deployment(namespace: string, name: string, vaultExtra: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): KubeObject {
  return kmsDeployment(name, inNamespace(namespace), withVault(stack.vault), withVaultFields(vaultExtra), withSpec(extra));
}

async function namespace(name: string): Promise<void> {
  await stack.prepareNamespace(name);
}

async function vaultCondition(ns: string, name: string) {
  return waitFor(`${ns}/${name} VaultConfigured to be decided`, async () => {
    const c = (await getKMSDeployment(stack.kube, ns, name))?.status?.conditions?.find((x) => x.type === 'VaultConfigured');
    return c && (c.status === 'True' || c.status === 'False') ? c : undefined;
  }, 60_000, 200);
}

async function deleteAndWait(ns: string, name: string): Promise<void> {
  await stack.kube.delete(resources.KMSDeployment, ns, name);
  await waitFor(`${ns}/${name} to be gone`, async () => ((await getKMSDeployment(stack.kube, ns, name)) ? undefined : true), 60_000, 200);
}

async function warnings(ns: string, name: string): Promise<string[]> {
  const events = await stack.kube.list(resources.Event, ns);
  return events.items.filter((e: KubeObject) => e.type === 'Warning' && (e.regarding as { name?: string } | undefined)?.name === name).map((e: KubeObject) => String(e.reason));
}

/** Everything Vault holds under a policy/role name: policy text, role fields, live secret-ids. */
async function vaultObjects(role: string): Promise<{ policy: unknown; role: unknown; secretIds: unknown }> {
  const policy = await stack.vault.request('GET', `sys/policies/acl/${role}`);
  const stored = await stack.vault.request('GET', `auth/approle/role/${role}`);
  const ids = await stack.vault.request('LIST', `auth/approle/role/${role}/secret-id`);
  return {
    policy: policy.status === 200 ? (policy.body?.['data'] as { policy?: string }).policy : policy.status,
    role: stored.status === 200 ? stored.body?.['data'] : stored.status,
    secretIds: ids.status === 200 ? ((ids.body?.['data'] as { keys?: string[] }).keys ?? []).sort() : ids.status,
  };
}

/** The victim's KES logs in with its own Secret and reads its master key. */
async function victimReadsItsKey(ns: string, name: string, key: string): Promise<string | undefined> {
  const { roleId, secretId } = await readAppRoleCredentials(stack.kube, ns, name);
  const kes = await KesLikeClient.login(stack.vault, roleId, secretId, 'kv', 'v1');
  return kes.read(key);
}

test('team-x/prod gets Vault objects of its own, not those of team/x-prod, and its deletion leaves the victim intact', async () => {
  await namespace('team');
  await namespace('team-x');
  await stack.kube.create(deployment('team', 'x-prod'));
  assert.equal((await vaultCondition('team', 'x-prod')).status, 'True');
  const victimName = vaultObjectName('team', 'x-prod');
  const { roleId, secretId } = await readAppRoleCredentials(stack.kube, 'team', 'x-prod');
  const victimKes = await KesLikeClient.login(stack.vault, roleId, secretId, 'kv', 'v1');
  await victimKes.create('kmsstack/team/x-prod/minio-key-1', 'victim-master-key');
  const before = await vaultObjects(victimName);
  const secretBefore = (await stack.kube.get(resources.Secret, 'team', appRoleSecretName('x-prod')))?.metadata.resourceVersion;

  // The attacker: namespace team-x, name prod, its own (allowed) prefix, and Delete on deletion.
  await stack.kube.create(deployment('team-x', 'prod', {}, { keyDeletionPolicy: 'Delete' }));
  const attacker = await vaultCondition('team-x', 'prod');
  assert.equal(attacker.status, 'True', attacker.message);
  const attackerPolicy = ((await getKMSDeployment(stack.kube, 'team-x', 'prod'))?.status as { vault?: { policy?: string } }).vault?.policy;
  assert.notEqual(attackerPolicy, victimName, 'the attacker got a policy of its own');
  const attackerCreds = await readAppRoleCredentials(stack.kube, 'team-x', 'prod');
  const attackerKes = await KesLikeClient.login(stack.vault, attackerCreds.roleId, attackerCreds.secretId, 'kv', 'v1');
  assert.equal(await KesLikeClient.outcome(() => attackerKes.read('kmsstack/team/x-prod/minio-key-1')), 'PermissionDenied');
  assert.deepEqual(await vaultObjects(victimName), before, 'the victim\'s policy, role and secret-ids are unchanged');

  await deleteAndWait('team-x', 'prod');
  assert.deepEqual(await vaultObjects(victimName), before, 'the attacker\'s deletion left the victim\'s objects alone');
  assert.equal((await stack.kube.get(resources.Secret, 'team', appRoleSecretName('x-prod')))?.metadata.resourceVersion, secretBefore);
  assert.equal(await victimReadsItsKey('team', 'x-prod', 'kmsstack/team/x-prod/minio-key-1'), 'victim-master-key');
});

test('a policy and role under the deployment\'s name that are not its own are refused (VaultNameConflict), never changed or deleted', async () => {
  await namespace('shared');
  const name = vaultObjectName('shared', 'kms');
  // As another cluster's operator with the same instance name would have made them.
  if ((await stack.vault.request('GET', 'sys/auth/approle')).status !== 200) await stack.vault.request('POST', 'sys/auth/approle', { type: 'approle' });
  const foreignOwner = 'kmsstack-operator instance=default deployment=shared/kms uid=another-cluster';
  await stack.vault.writePolicy(name, renderKesPolicy({ deployment: { namespace: 'shared', name: 'kms' }, owner: foreignOwner, kvMountPath: 'kv', kvVersion: 'v1', prefix: 'kmsstack/shared/kms', allowKeyDeletion: false }));
  assert.equal((await stack.vault.request('POST', `auth/approle/role/${name}`, { token_policies: [name], secret_id_ttl: '1h' })).status, 204);
  assert.equal((await stack.vault.request('POST', `auth/approle/role/${name}/secret-id`, {})).status, 200);
  const before = await vaultObjects(name);

  await stack.kube.create(deployment('shared', 'kms'));
  const condition = await vaultCondition('shared', 'kms');
  assert.equal(condition.status, 'False');
  assert.equal(condition.reason, 'VaultNameConflict', condition.message);
  assert.match(condition.message, /another-cluster/);
  assert.ok((await warnings('shared', 'kms')).includes('VaultNameConflict'));
  assert.equal(await stack.kube.get(resources.Secret, 'shared', appRoleSecretName('kms')), undefined, 'no credentials were handed out');
  assert.deepEqual(await vaultObjects(name), before, 'nothing of the other owner changed');

  await deleteAndWait('shared', 'kms');
  assert.deepEqual(await vaultObjects(name), before, 'the deletion deleted nothing of the other owner');
});

test('a Vault namespace that Vault OSS ignores does not give a second deployment the same keys', async () => {
  await namespace('ns8');
  await stack.kube.create(deployment('ns8', 'store'));
  assert.equal((await vaultCondition('ns8', 'store')).status, 'True');
  const { roleId, secretId } = await readAppRoleCredentials(stack.kube, 'ns8', 'store');
  await (await KesLikeClient.login(stack.vault, roleId, secretId, 'kv', 'v1')).create('kmsstack/ns8/store/minio-key-1', 'store-master-key');

  // The same server, mount and prefix, spelled with a Vault namespace (the test Vault is OSS, which
  // serves it from the root namespace) and a different spelling of the address.
  // Creation times have whole seconds; the older of two deployments keeps a prefix.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const spelled = `${stack.vault.address.replace(/:(\d+)$/, ':0$1')}/`;
  await stack.kube.create(deployment('ns8', 'evil', { namespace: 'elsewhere', address: spelled, kv: { mountPath: 'kv', version: 'v1', prefix: 'kmsstack/ns8/store' } }, { keyDeletionPolicy: 'Delete' }));
  const condition = await vaultCondition('ns8', 'evil');
  assert.equal(condition.reason, 'PrefixInUse', condition.message);
  assert.equal(await stack.kube.get(resources.Secret, 'ns8', appRoleSecretName('evil')), undefined, 'no credentials for the keys of ns8/store');
  assert.equal((await stack.vault.request('GET', `sys/policies/acl/${vaultObjectName('ns8', 'evil')}`)).status, 404);

  await deleteAndWait('ns8', 'evil');
  assert.equal(await victimReadsItsKey('ns8', 'store', 'kmsstack/ns8/store/minio-key-1'), 'store-master-key', 'the key survived the Delete deployment\'s deletion');
});
