// Several operators on one Vault (issue 17, hole 7) and the upgrade from version 0.1 names (hole 1),
// with reconcileVault against a real Vault and a real kube-apiserver. Each operator logs in with the
// operator policy of docs/vault.md rendered for its own --instance-name. A "cluster" is a namespace
// prefix on the one API server: its AppRole Secrets and token Secret live apart, as in two clusters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resources } from '../../../src/runtime/kube/resources.ts';
import type { VaultDeps } from '../../../src/vault/connect.ts';
import { appRoleSecretName } from '../../../src/vault/names.ts';
import { renderOperatorPolicy } from '../../../src/vault/operator-policy.ts';
import { ownerRecord } from '../../../src/vault/ownership.ts';
import { renderKesPolicy } from '../../../src/vault/policy.ts';
import { kubeClientPort } from '../../../src/vault/ports.ts';
import { reconcileVault } from '../../../src/vault/reconcile.ts';
import { resolveVaultSettings, type VaultSettings } from '../../../src/vault/settings.ts';
import { allowedRoot, parsePrefixTemplate } from '../../../src/vault/tenancy.ts';
import { operatorPolicyInput } from '../../support/stack.ts';
import { suiteFixture } from '../../support/suite.ts';
import { KesLikeClient, operatorDeps, ownerOf, readAppRoleCredentials, startVaultSuiteStack } from './fixture.ts';
import { ensureNamespace, putSecret } from '../../support/kube.ts';

const stack = suiteFixture(() => startVaultSuiteStack('upgrade'));

/** A token holding only the documented operator policy of `instance`. */
async function instanceToken(instance: string): Promise<string> {
  const policy = `kmsstack-operator-${instance}`;
  await stack.vault.writePolicy(policy, renderOperatorPolicy(operatorPolicyInput({ instance })));
  const res = await stack.vault.request('POST', 'auth/token/create', { policies: [policy], ttl: '1h', no_default_policy: true });
  return (res.body?.['auth'] as { client_token: string }).client_token;
}

/** The operator of one cluster: Kubernetes namespace `ns` of that cluster is `<cluster>-<ns>` here. */
async function clusterOperator(cluster: string, token: string, ns: string): Promise<VaultDeps> {
  await ensureNamespace(stack.kube, `${cluster}-${ns}`);
  await putSecret(stack.kube, `${cluster}-${ns}`, 'vault-operator-token', { token });
  return clusterDeps(cluster);
}

function clusterDeps(cluster: string): VaultDeps {
  const port = kubeClientPort(stack.kube);
  const deps = operatorDeps(stack.kube);
  return {
    ...deps,
    kube: {
      getSecret: (namespace, name) => port.getSecret(`${cluster}-${namespace}`, name),
      applySecret: (desired, existing) => port.applySecret({ ...desired, metadata: { ...desired.metadata, namespace: `${cluster}-${desired.metadata.namespace}` } }, existing),
      getKesDeployment: (namespace, name) => port.getKesDeployment(`${cluster}-${namespace}`, name),
    },
  };
}

function settings(ns: string, name: string, instance: string, uid: string, prefix: string): VaultSettings {
  return resolveVaultSettings(
    { address: stack.vault.address, auth: { token: { secretRef: { name: 'vault-operator-token' } } }, kv: { mountPath: 'kv', version: 'v1', prefix } },
    { namespace: ns, name, uid },
    instance,
  );
}

async function reconcile(deps: VaultDeps, s: VaultSettings, recorded?: { policy?: string; role?: string }) {
  const owner = ownerOf(s.deployment.namespace, s.deployment.name);
  return reconcileVault(deps, { settings: s, labels: owner.labels, ownerReferences: owner.ownerReferences, now: new Date(), recorded });
}

async function kesOf(cluster: string, ns: string, name: string): Promise<KesLikeClient> {
  const { roleId, secretId } = await readAppRoleCredentials(stack.kube, `${cluster}-${ns}`, name);
  return KesLikeClient.login(stack.vault, roleId, secretId, 'kv', 'v1');
}

async function policyText(name: string): Promise<string | number> {
  const res = await stack.vault.request('GET', `sys/policies/acl/${name}`);
  return res.status === 200 ? ((res.body?.['data'] as { policy: string }).policy) : res.status;
}

test('payments/kms in staging and in production get separate Vault objects and prefixes; a third operator reusing an instance name is refused', async () => {
  const staging = await clusterOperator('staging', await instanceToken('staging'), 'payments');
  const prodToken = await instanceToken('prod');
  const prod = await clusterOperator('prod', prodToken, 'payments');
  const rootOf = (instance: string) => allowedRoot(parsePrefixTemplate('', instance), { namespace: 'payments', name: 'kms' }) as string;
  const prodSettings = settings('payments', 'kms', 'prod', 'uid-prod', rootOf('prod'));
  const stagingSettings = settings('payments', 'kms', 'staging', 'uid-staging', rootOf('staging'));
  assert.notEqual(rootOf('prod'), rootOf('staging'));

  assert.equal((await reconcile(prod, prodSettings)).condition.reason, 'Configured');
  await (await kesOf('prod', 'payments', 'kms')).create(`${rootOf('prod')}/minio-key-1`, 'prod-master-key');
  const prodPolicy = await policyText(prodSettings.objectName);

  const outcome = await reconcile(staging, stagingSettings);
  assert.equal(outcome.condition.reason, 'Configured', outcome.condition.message);
  assert.notEqual(stagingSettings.objectName, prodSettings.objectName);
  const stagingKes = await kesOf('staging', 'payments', 'kms');
  assert.equal(await KesLikeClient.outcome(() => stagingKes.read(`${rootOf('prod')}/minio-key-1`)), 'PermissionDenied', 'staging cannot read production keys');
  assert.equal(await policyText(prodSettings.objectName), prodPolicy, 'production\'s policy is unchanged');
  const stagingToken = await instanceToken('staging');
  assert.equal((await stack.vault.request('PUT', `sys/policies/acl/${prodSettings.objectName}`, { policy: '' }, stagingToken)).status, 403, 'the staging operator\'s own policy cannot touch production names');

  // A third cluster whose operator was given the instance name "prod" by mistake.
  const copy = await clusterOperator('copy', prodToken, 'payments');
  const refused = await reconcile(copy, settings('payments', 'kms', 'prod', 'uid-copy', rootOf('prod')));
  assert.equal(refused.condition.reason, 'VaultNameConflict', refused.condition.message);
  assert.match(refused.condition.message, /uid=uid-prod/);
  assert.equal(await policyText(prodSettings.objectName), prodPolicy, 'production\'s policy is unchanged');
  assert.equal(await (await kesOf('prod', 'payments', 'kms')).read(`${rootOf('prod')}/minio-key-1`), 'prod-master-key');
  assert.equal(await stack.kube.get(resources.Secret, 'copy-payments', appRoleSecretName('kms')), undefined, 'no credentials were handed out');
});

/**
 * A deployment as version 0.1 left it: policy and role under the ambiguous name, KES's Secret on that
 * role. Made with Vault's root token (the new operator policy may not write 0.1 names).
 */
async function asVersion01(cluster: string, s: VaultSettings): Promise<void> {
  await putSecret(stack.kube, `${cluster}-${s.deployment.namespace}`, 'vault-root-token', { token: stack.vault.rootToken });
  const auth = { method: 'token' as const, secretName: 'vault-root-token', secretKey: 'token' };
  // 0.1 checked no owner: let the operator take the shared name, as 0.1 did, then drop the record.
  const legacyRender = (owner?: string) => renderKesPolicy({ deployment: s.deployment, owner, kvMountPath: 'kv', kvVersion: 'v1', prefix: s.kv.prefix, allowKeyDeletion: false });
  await stack.vault.writePolicy(s.legacyObjectName, legacyRender(ownerRecord(s)));
  const outcome = await reconcile(clusterDeps(cluster), { ...s, auth, objectName: s.legacyObjectName });
  assert.equal(outcome.condition.reason, 'Configured', outcome.condition.message);
  await stack.vault.writePolicy(s.legacyObjectName, legacyRender());
}

test('upgrade: a deployment moves from its 0.1 policy and role to the new names, and the old ones go', async () => {
  const deps = await clusterOperator('one', await tokenOfFixture(), 'shop');
  const s = settings('shop', 'kms', 'default', 'uid-shop', 'kmsstack/shop/kms');
  await asVersion01('one', s);
  await (await kesOf('one', 'shop', 'kms')).create('kmsstack/shop/kms/minio-key-1', 'shop-master-key');

  const outcome = await reconcile(deps, s, { policy: s.legacyObjectName, role: s.legacyObjectName });
  assert.equal(outcome.condition.reason, 'Configured', outcome.condition.message);
  assert.deepEqual({ policy: outcome.status.policy, role: outcome.status.role }, { policy: s.objectName, role: s.objectName });
  assert.ok(outcome.changes.includes(`deleted the version 0.1 policy ${s.legacyObjectName}`), outcome.changes.join('\n'));
  assert.equal(await policyText(s.legacyObjectName), 404);
  assert.equal((await stack.vault.request('GET', `auth/approle/role/${s.legacyObjectName}`)).status, 404);
  assert.equal(await (await kesOf('one', 'shop', 'kms')).read('kmsstack/shop/kms/minio-key-1'), 'shop-master-key', 'KES on the new role reads the existing key');
});

test('upgrade after a 0.1 collision: only the deployment whose prefix the shared policy grants removes it', async () => {
  const token = await tokenOfFixture();
  const team = await clusterOperator('two', token, 'team');
  const teamX = await clusterOperator('two', token, 'team-x');
  const victim = settings('team', 'x-prod', 'default', 'uid-victim', 'kmsstack/team/x-prod');
  const attacker = settings('team-x', 'prod', 'default', 'uid-attacker', 'kmsstack/team-x/prod');
  assert.equal(victim.legacyObjectName, attacker.legacyObjectName);
  await asVersion01('two', victim);
  await asVersion01('two', attacker); // 0.1: the attacker rewrote the shared policy to its prefix
  const legacy = victim.legacyObjectName;

  const moved = await reconcile(team, victim, { policy: legacy, role: legacy });
  assert.equal(moved.condition.reason, 'Configured', moved.condition.message);
  assert.match(moved.condition.message, /left the version 0\.1 policy and AppRole role kmsstack-team-x-prod/);
  assert.notEqual(await policyText(legacy), 404, 'not provably the victim\'s: left for the attacker (or an admin)');

  const movedToo = await reconcile(teamX, attacker, { policy: legacy, role: legacy });
  assert.equal(movedToo.condition.reason, 'Configured', movedToo.condition.message);
  assert.equal(await policyText(legacy), 404);
  const victimKes = await kesOf('two', 'team', 'x-prod');
  await victimKes.create('kmsstack/team/x-prod/minio-key-1', 'victim-master-key');
  const attackerKes = await kesOf('two', 'team-x', 'prod');
  assert.equal(await KesLikeClient.outcome(() => attackerKes.read('kmsstack/team/x-prod/minio-key-1')), 'PermissionDenied');
});

/** A token with the default instance's operator policy (the fixture's, which includes the 0.1 names). */
async function tokenOfFixture(): Promise<string> {
  const res = await stack.vault.request('POST', 'auth/token/create', { policies: ['kmsstack-operator'], ttl: '1h', no_default_policy: true });
  return (res.body?.['auth'] as { client_token: string }).client_token;
}
