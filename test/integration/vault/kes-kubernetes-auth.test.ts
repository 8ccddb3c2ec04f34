// spec.vault.kesAuth: Kubernetes against a real Vault whose Kubernetes auth method reviews tokens
// with the real kube-apiserver: the role the operator makes takes a token of KES's ServiceAccount
// (with the audience) and nothing else, grants the KES policy, and no secret-id exists. With the
// real `kes` program, KES logs in with the config the operator renders and serves keys.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyDefaults } from '../../../src/api/index.ts';
import { buildKesConfig } from '../../../src/kes/config.ts';
import { KesClient } from '../../../src/kes/client.ts';
import { VaultClient } from '../../../src/vault/client.ts';
import { cleanupVault } from '../../../src/vault/cleanup.ts';
import { reconcileVault, type VaultReconcileInput } from '../../../src/vault/reconcile.ts';
import type { VaultSpec } from '../../../src/vault/settings.ts';
import { findProgram } from '../../env/programs.ts';
import { makeTempDir, removeTempDir } from '../../env/process.ts';
import { startKes } from '../../env/kes.ts';
import { identityOf, issue, makeCa } from '../../unit/kes/tls-fixture.ts';
import { suiteFixture } from '../../support/suite.ts';
import { KesLikeClient, ownerOf, readAppRoleCredentials, settingsFor, startVaultSuiteStack } from './fixture.ts';

const NS = 'storage';
let dir: string;

const kubernetesKes: Partial<VaultSpec> = { kesAuth: 'Kubernetes', kesKubernetes: { mountPath: 'kubernetes', audience: 'vault', tokenExpiration: '1h' } };

/** The Vault suite's stack with Kubernetes auth enabled as docs/vault.md has the Vault admin do it. */
async function startWithKubernetesAuth(): Promise<Awaited<ReturnType<typeof startVaultSuiteStack>>> {
  const stack = await startVaultSuiteStack(NS);
  try {
    const { vault, plane: cp } = stack;
    // The auth method, its config with a token reviewer (system:auth-delegator), here together with
    // a role for the operator that the tests do not use.
    const reviewer = await cp.mintServiceAccountToken('vault', 'token-reviewer', { expirationSeconds: 7200 });
    await cp.kubectl(['create', 'clusterrolebinding', 'vault-token-reviewer', '--clusterrole=system:auth-delegator', '--serviceaccount=vault:token-reviewer']);
    await vault.enableKubernetesAuth({
      kubernetesHost: cp.server, kubernetesCA: cp.caPem, tokenReviewerJWT: reviewer,
      role: 'kmsstack-operator', boundServiceAccountNames: ['kmsstack-operator'], boundServiceAccountNamespaces: ['kmsstack-system'], policies: ['kmsstack-operator'],
    });
    return stack;
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

const env = suiteFixture(startWithKubernetesAuth);

before(() => {
  dir = makeTempDir('kes-k8s-auth');
});

after(() => {
  if (dir) removeTempDir(dir);
});

function input(name: string, overrides: Partial<VaultSpec>, recorded?: VaultReconcileInput['recorded']): VaultReconcileInput {
  const owner = ownerOf(NS, name);
  return { settings: settingsFor(env.vault, NS, name, overrides), labels: owner.labels, ownerReferences: owner.ownerReferences, now: new Date(), ...(recorded ? { recorded } : {}) };
}

/** Logs in at auth/kubernetes/login as `role` with `jwt`; the Vault token, or the failure reason. */
async function kubernetesLogin(role: string, jwt: string): Promise<{ token?: string; policies?: string[]; refused?: number }> {
  const res = await env.vault.request('POST', 'auth/kubernetes/login', { role, jwt }, '');
  const auth = res.body?.['auth'] as { client_token?: string; token_policies?: string[] } | undefined;
  return res.status === 200 && auth?.client_token ? { token: auth.client_token, policies: auth.token_policies ?? [] } : { refused: res.status };
}

const vaultClient = () => new VaultClient({ address: env.vault.address, caPem: env.vault.caPem, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });

test('the Kubernetes role takes only a token of KES\'s ServiceAccount, in its namespace, with the audience; it grants the KES policy and no secret-id exists', async () => {
  const name = 'k8s-kes';
  const outcome = await reconcileVault(env.deps, input(name, kubernetesKes));
  assert.equal(outcome.condition.reason, 'Configured', outcome.condition.message);
  const role = `kmsstack_default_${NS}_${name}`;
  assert.ok(outcome.changes.includes(`created Kubernetes role ${role} on auth/kubernetes, bound to ServiceAccount ${NS}/${name}-kes`), outcome.changes.join('\n'));
  assert.equal(outcome.status.kesAuth, 'Kubernetes');
  assert.equal(outcome.status.kubernetesRoleMount, 'kubernetes');
  assert.equal(outcome.status.secretIDExpiresAt, undefined);
  assert.ok(outcome.appRoleChecksum && /^[0-9a-f]{64}$/.test(outcome.appRoleChecksum));
  assert.ok(!outcome.changes.some((c) => c.includes('secret-id')), 'no secret-id issued');
  const accessors = await env.vault.request('LIST', `auth/approle/role/${role}/secret-id`);
  assert.equal(accessors.status, 404, 'the AppRole role has no secret-id');
  await assert.rejects(readAppRoleCredentials(env.kube, NS, name), /missing/, 'no AppRole Secret');

  const stored = (await env.vault.request('GET', `auth/kubernetes/role/${role}`)).body?.['data'] as Record<string, unknown>;
  assert.deepEqual(stored['bound_service_account_names'], [`${name}-kes`]);
  assert.deepEqual(stored['bound_service_account_namespaces'], [NS]);
  assert.equal(stored['audience'], 'vault');
  assert.deepEqual(stored['token_policies'], [role]);

  const kesToken = await env.plane.mintServiceAccountToken(NS, `${name}-kes`, { audiences: ['vault'], expirationSeconds: 600 });
  const accepted = await kubernetesLogin(role, kesToken);
  assert.ok(accepted.token, `KES's token logs in (${accepted.refused})`);
  assert.deepEqual(accepted.policies, [role], 'only the KES policy, not even default');
  const kes = new KesLikeClient(vaultClient(), accepted.token, 'kv', 'v1');
  assert.equal(await KesLikeClient.outcome(() => kes.create(`kmsstack/${NS}/${name}/minio-key-1`, 'material')), 'ok');
  assert.equal(await kes.read(`kmsstack/${NS}/${name}/minio-key-1`), 'material');
  assert.equal(await KesLikeClient.outcome(() => kes.list(`kmsstack/${NS}/other`)), 'PermissionDenied', 'nothing outside the prefix');

  const refusedTokens = {
    'another ServiceAccount of the namespace': await env.plane.mintServiceAccountToken(NS, 'default', { audiences: ['vault'] }),
    'the same name in another namespace': await env.plane.mintServiceAccountToken('elsewhere', `${name}-kes`, { audiences: ['vault'] }),
    'KES\'s token for the Kubernetes API (no audience vault)': await env.plane.mintServiceAccountToken(NS, `${name}-kes`),
  };
  for (const [what, jwt] of Object.entries(refusedTokens)) {
    const refused = await kubernetesLogin(role, jwt);
    assert.equal(refused.token, undefined, `${what} is refused`);
    assert.ok(refused.refused === 403 || refused.refused === 400, `${what}: ${refused.refused}`);
  }

  const again = await reconcileVault(env.deps, input(name, kubernetesKes, { kubernetesRoleMount: 'kubernetes' }));
  assert.deepEqual(again.changes, [], 'a second reconcile writes nothing to Vault');
});

test('switching AppRole -> Kubernetes destroys the secret-ids (no KES is running on them), and back deletes the Kubernetes role', async () => {
  const name = 'switch';
  const role = `kmsstack_default_${NS}_${name}`;
  const first = await reconcileVault(env.deps, input(name, {}));
  assert.equal(first.condition.reason, 'Configured', first.condition.message);
  const { roleId, secretId } = await readAppRoleCredentials(env.kube, NS, name);
  assert.ok(await KesLikeClient.login(env.vault, roleId, secretId, 'kv', 'v1'), 'the AppRole login works before the switch');

  const toKubernetes = await reconcileVault(env.deps, input(name, kubernetesKes, { kubernetesRoleMount: first.status.kubernetesRoleMount }));
  assert.equal(toKubernetes.condition.reason, 'Configured', toKubernetes.condition.message);
  assert.ok(toKubernetes.changes.some((c) => c.startsWith('destroyed secret-id')), toKubernetes.changes.join('\n'));
  await assert.rejects(KesLikeClient.login(env.vault, roleId, secretId, 'kv', 'v1'), 'the old secret-id no longer logs in');
  assert.notEqual(toKubernetes.appRoleChecksum, first.appRoleChecksum, 'KES rolls');

  const back = await reconcileVault(env.deps, input(name, {}, { kubernetesRoleMount: toKubernetes.status.kubernetesRoleMount }));
  assert.equal(back.condition.reason, 'Configured', back.condition.message);
  assert.ok(back.changes.includes(`deleted Kubernetes role ${role} on auth/kubernetes`), back.changes.join('\n'));
  assert.equal(back.status.kubernetesRoleMount, undefined);
  assert.equal((await env.vault.request('GET', `auth/kubernetes/role/${role}`)).status, 404);
  assert.ok(back.changes.some((c) => c.startsWith('issued secret-id')), 'AppRole again: a new secret-id');
});

test('a missing Kubernetes auth mount is KubernetesAuthMountMissing, naming the field; the finalizer deletes the Kubernetes role', async () => {
  // Granted by the operator policy but not enabled by the Vault admin.
  const missing = await reconcileVault(env.deps, input('no-mount', { kesAuth: 'Kubernetes', kesKubernetes: { mountPath: 'kubernetes-kes' } }));
  assert.equal(missing.condition.reason, 'KubernetesAuthMountMissing', missing.condition.message);
  assert.match(missing.condition.message, /no auth method is mounted at auth\/kubernetes-kes.*spec\.vault\.kesKubernetes\.mountPath/);
  // Not in the operator policy at all: Vault refuses the check itself.
  const notGranted = await reconcileVault(env.deps, input('not-granted', { kesAuth: 'Kubernetes', kesKubernetes: { mountPath: 'k8s-nowhere' } }));
  assert.equal(notGranted.condition.reason, 'PermissionDenied', notGranted.condition.message);

  const name = 'finalized';
  const made = input(name, kubernetesKes);
  assert.equal((await reconcileVault(env.deps, made)).condition.reason, 'Configured');
  const report = await cleanupVault(env.deps, made.settings, 'Retain', new Date(), { kubernetesRoleMount: 'kubernetes' });
  assert.ok(report.done.includes(`deleted Kubernetes role kmsstack_default_${NS}_${name} on auth/kubernetes`), report.done.join('\n'));
  assert.equal((await env.vault.request('GET', `auth/kubernetes/role/kmsstack_default_${NS}_${name}`)).status, 404);
});

test('the real KES logs in with the Kubernetes keystore settings the operator renders and serves keys', { skip: findProgram('kes') ? false : 'no kes program (test/env/programs.ts)' }, async () => {
  const name = 'real-kes';
  const made = input(name, kubernetesKes);
  assert.equal((await reconcileVault(env.deps, made)).condition.reason, 'Configured');
  const ca = await makeCa();
  const [server, minio, operator] = await Promise.all([issue(ca, `${name}-kes`, 'server'), issue(ca, `${name}-minio`, 'client'), issue(ca, 'kmsstack-operator', 'client')]);
  const spec = applyDefaults({
    mode: 'Vault',
    vault: { address: env.vault.address, auth: { kubernetes: { role: 'kmsstack' } }, kv: { prefix: `kmsstack/${NS}/${name}` }, ...kubernetesKes },
    kes: { keys: [{ name: 'minio-key-1' }] },
  });
  const config = buildKesConfig({ deployment: { namespace: NS, name }, spec, identities: { minio: identityOf(minio.cert), operator: identityOf(operator.cert) }, vaultRole: made.settings.objectName });
  // The kubelet's projected token file, here written by the test (the path is the only change).
  const jwtFile = join(dir, 'token');
  writeFileSync(jwtFile, await env.plane.mintServiceAccountToken(NS, `${name}-kes`, { audiences: ['vault'], expirationSeconds: 600 }));
  assert.ok(config.keystore.vault.kubernetes);
  config.keystore.vault.kubernetes.jwt = jwtFile;
  const kes = await startKes({ config, tls: server, ca: ca.cert, env: {} });
  try {
    const client = new KesClient({ endpoint: kes.url, ca: ca.cert, clientCert: operator.cert, clientKey: operator.key });
    await client.createKey('minio-key-1');
    const minioClient = new KesClient({ endpoint: kes.url, ca: ca.cert, clientCert: minio.cert, clientKey: minio.key });
    const generated = await minioClient.generateKey('minio-key-1');
    assert.deepEqual(await minioClient.decrypt('minio-key-1', generated.ciphertext), generated.plaintext);
    assert.ok((await env.vault.request('GET', `kv/kmsstack/${NS}/${name}/minio-key-1`)).status === 200, 'the key is in Vault under the prefix');
  } finally {
    await kes.stop();
  }
});
