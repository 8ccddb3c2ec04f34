// reconcileVault against a real Vault and a real kube-apiserver, with the operator logged in through
// a token Secret holding only the documented operator policy.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { reconcileVault } from '../../../src/vault/reconcile.ts';
import type { KvVersion } from '../../../src/vault/settings.ts';
import { suiteFixture } from '../../support/suite.ts';
import { KesLikeClient, ownerOf, readAppRoleCredentials, settingsFor, startVaultSuiteStack } from './fixture.ts';
import { operatorToken } from '../../support/stack.ts';
import { putSecret } from '../../support/kube.ts';

const NS = 'storage';

async function reconcile(name: string, kvVersion: KvVersion = 'v1', kvMount?: string, keyDeletionPolicy: 'Retain' | 'Delete' = 'Retain') {
  const settings = settingsFor(stack.vault, NS, name, { kvVersion, kvMount });
  const owner = ownerOf(NS, name);
  return reconcileVault(stack.deps, { settings, labels: owner.labels, ownerReferences: owner.ownerReferences, now: new Date(), keyDeletionPolicy });
}


const stack = suiteFixture(() => startVaultSuiteStack(NS));

test('two first reconciles at once, on a KV mount not enabled yet, both succeed (one enables it, the other finds it)', async () => {
  const [a, b] = await Promise.all([reconcile('race-a', 'v1'), reconcile('race-b', 'v1')]);
  for (const outcome of [a, b]) assert.equal(outcome.condition.reason, 'Configured', outcome.condition.message);
  const enabled = [a, b].filter((o) => o.changes.some((c) => c.startsWith('enabled KV v1 at kv')));
  assert.ok(enabled.length >= 1, 'one of them enabled the mount');
});

for (const kvVersion of ['v1', 'v2'] as const) {
  describe(`KV ${kvVersion}`, () => {
    const name = `tenant-${kvVersion}`;
    const other = `other-${kvVersion}`;
    const mount = kvVersion === 'v2' ? 'kv2' : 'kv';

    test('the first reconcile creates mount, AppRole mount, policy, role and the AppRole Secret', async () => {
      const outcome = await reconcile(name, kvVersion);
      assert.equal(outcome.condition.reason, 'Configured', outcome.condition.message);
      assert.equal(outcome.condition.status, 'True');
      assert.ok(outcome.appRoleChecksum && /^[0-9a-f]{64}$/.test(outcome.appRoleChecksum));
      assert.ok(outcome.changes.some((c) => c.startsWith(`created policy kmsstack_default_${NS}_${name}`)), outcome.changes.join('\n'));
      assert.ok(outcome.changes.some((c) => c.startsWith('issued secret-id')));
      assert.equal(outcome.status.policy, `kmsstack_default_${NS}_${name}`);
      assert.ok(outcome.status.secretIDExpiresAt);
      const { secret } = await readAppRoleCredentials(stack.kube, NS, name);
      assert.equal(secret.metadata.annotations?.['kmsstack.io/approle-checksum'], outcome.appRoleChecksum);
      assert.ok(!JSON.stringify(outcome).includes((await readAppRoleCredentials(stack.kube, NS, name)).secretId), 'no secret-id in the outcome');
    });

    test('the AppRole credentials can do exactly what KES does under the prefix', async () => {
      await reconcile(other, kvVersion);
      const { roleId, secretId } = await readAppRoleCredentials(stack.kube, NS, name);
      const kes = await KesLikeClient.login(stack.vault, roleId, secretId, mount, kvVersion);
      const prefix = `kmsstack/${NS}/${name}`;
      assert.equal(await KesLikeClient.outcome(() => kes.create(`${prefix}/minio-key-1`, 'master-key-1')), 'ok');
      assert.equal(await kes.read(`${prefix}/minio-key-1`), 'master-key-1');
      assert.equal(await KesLikeClient.outcome(() => kes.create(`${prefix}/minio-key-2`, 'master-key-2')), 'ok');
      assert.deepEqual((await kes.list(prefix)).sort(), ['minio-key-1', 'minio-key-2']);
      assert.equal(await KesLikeClient.outcome(() => kes.delete(`${prefix}/minio-key-2`)), 'PermissionDenied', 'keyDeletionPolicy Retain: no delete, even for KES');
      const changed = await reconcile(name, kvVersion, undefined, 'Delete');
      assert.ok(changed.changes.includes(`updated policy kmsstack_default_${NS}_${name}`), changed.changes.join('\n'));
      assert.equal(await KesLikeClient.outcome(() => kes.delete(`${prefix}/minio-key-2`)), 'ok', 'keyDeletionPolicy Delete: KES may delete');
      assert.deepEqual(await kes.list(prefix), ['minio-key-1']);
      await reconcile(name, kvVersion);
      assert.equal(await KesLikeClient.outcome(() => kes.renewSelf()), 'ok');
    });

    test('the AppRole credentials are denied outside the prefix', async () => {
      const { roleId, secretId } = await readAppRoleCredentials(stack.kube, NS, name);
      const kes = await KesLikeClient.login(stack.vault, roleId, secretId, mount, kvVersion);
      const otherKes = await readAppRoleCredentials(stack.kube, NS, other).then((c) => KesLikeClient.login(stack.vault, c.roleId, c.secretId, mount, kvVersion));
      const otherPrefix = `kmsstack/${NS}/${other}`;
      await otherKes.create(`${otherPrefix}/their-key`, 'theirs');
      const denied = async (label: string, call: () => Promise<unknown>) => assert.equal(await KesLikeClient.outcome(call), 'PermissionDenied', label);
      await denied('read another deployment\'s key', () => kes.read(`${otherPrefix}/their-key`));
      await denied('list another deployment\'s prefix', () => kes.list(otherPrefix));
      await denied('delete another deployment\'s key', () => kes.delete(`${otherPrefix}/their-key`));
      await denied('create under another prefix', () => kes.create(`${otherPrefix}/planted`, 'x'));
      await denied('a sibling whose name starts like the prefix', () => kes.create(`kmsstack/${NS}/${name}x/k`, 'x'));
      await denied('the parent of the prefix', () => kes.list(`kmsstack/${NS}`));
      await denied('the mount root', () => kes.list(''));
      await denied('overwrite an existing key', () => kes.create(`kmsstack/${NS}/${name}/minio-key-1`, 'replaced'));
      await denied('another mount', () => kes.on('secret', 'v2').read('anything'));
      assert.equal(await otherKes.read(`${otherPrefix}/their-key`), 'theirs');
      assert.equal(await kes.read(`kmsstack/${NS}/${name}/minio-key-1`), 'master-key-1', 'the key was not overwritten');
      const policy = await stack.vault.request('GET', 'sys/policies/acl/default', undefined, kes.token);
      assert.equal(policy.status, 403, 'no access to sys/');
    });

    test('a reconcile with nothing to change makes no Vault write', async () => {
      await stack.vault.enableAudit();
      await reconcile(name, kvVersion); // settle: nothing should be due
      const before = stack.vault.auditedWrites().length;
      const outcome = await reconcile(name, kvVersion);
      assert.equal(outcome.condition.reason, 'Configured');
      assert.deepEqual(outcome.changes, []);
      assert.deepEqual(stack.vault.auditedWrites().slice(before), [], 'audited write requests during a no-op reconcile');
      // The count is live: a deployment that needs setting up shows up in it.
      await reconcile(`fresh-${kvVersion}`, kvVersion);
      const writes = stack.vault.auditedWrites().slice(before).map((w) => w.path);
      assert.ok(writes.includes(`sys/policies/acl/kmsstack_default_${NS}_fresh-${kvVersion}`), writes.join('\n'));
    });

    test('drift made in Vault by hand is repaired, and only what drifted is written', async () => {
      const policy = `kmsstack_default_${NS}_${name}`;
      await stack.vault.writePolicy(policy, 'path "*" { capabilities = ["sudo", "read"] }');
      await stack.vault.request('POST', `auth/approle/role/${policy}`, { token_ttl: 7, token_policies: ['default', policy] });
      const outcome = await reconcile(name, kvVersion);
      assert.deepEqual(outcome.changes, [`updated policy ${policy}`, `updated AppRole role ${policy} (token_policies, token_ttl)`]);
      const stored = await stack.vault.request('GET', `sys/policies/acl/${policy}`);
      assert.doesNotMatch(String((stored.body?.['data'] as { policy: string }).policy), /sudo/);
      assert.deepEqual((await reconcile(name, kvVersion)).changes, []);
    });
  });
}

test('an existing mount of the other KV version is reported and left alone', async () => {
  await stack.vault.request('POST', 'sys/mounts/kvother', { type: 'kv', options: { version: '2' } });
  await stack.vault.enableAudit();
  const before = stack.vault.auditedWrites().length;
  const outcome = await reconcile('mismatch', 'v1', 'kvother');
  assert.equal(outcome.condition.status, 'False');
  assert.equal(outcome.condition.reason, 'KVVersionMismatch');
  assert.match(outcome.condition.message, /kvother is KV v2 but spec\.vault\.kv\.version is v1/);
  assert.deepEqual(stack.vault.auditedWrites().slice(before), []);
  const mount = await stack.vault.request('GET', 'sys/mounts/kvother');
  assert.deepEqual(mount.body?.['options'], { version: '2' });
});

/** Reconciles deployment `name` logging in with the token of Secret `secretName`. */
function reconcileWithToken(name: string, secretName: string) {
  const settings = settingsFor(stack.vault, NS, name, { auth: { token: { secretRef: { name: secretName, key: 'token' } } } });
  return reconcileVault(stack.deps, { settings, labels: {}, ownerReferences: [], now: new Date() });
}

test('a missing token Secret and a revoked operator token are reported as such', async () => {
  const missing = await reconcileWithToken('no-token', 'does-not-exist');
  assert.equal(missing.condition.reason, 'SecretMissing');
  assert.match(missing.condition.message, /spec\.vault\.auth\.token\.secretRef: Secret storage\/does-not-exist does not exist/);

  const revoked = await operatorToken(stack.vault);
  await putSecret(stack.kube, NS, 'revoked-token', { token: revoked });
  await stack.vault.request('POST', 'auth/token/revoke', { token: revoked });
  const refused = await reconcileWithToken('revoked', 'revoked-token');
  assert.equal(refused.condition.reason, 'AuthFailed');
  assert.ok(!refused.condition.message.includes(revoked), 'the token is not in the message');
});

test('a token without the needed permission is reported as PermissionDenied', async () => {
  await stack.vault.writePolicy('too-small', 'path "sys/mounts/kv" { capabilities = ["read"] }\npath "auth/token/lookup-self" { capabilities = ["read"] }');
  const res = await stack.vault.request('POST', 'auth/token/create', { policies: ['too-small'], no_default_policy: true });
  await putSecret(stack.kube, NS, 'small-token', { token: (res.body?.['auth'] as { client_token: string }).client_token });
  const outcome = await reconcileWithToken('small', 'small-token');
  assert.equal(outcome.condition.reason, 'PermissionDenied');
  assert.match(outcome.condition.message, /read auth method mount approle: permission denied/);
});
