// The operator logs in with its ServiceAccount token through Vault's Kubernetes auth method, which
// checks the token with a TokenReview against the test kube-apiserver.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeClient } from '../../../src/runtime/kube/client.ts';
import { reconcileVault } from '../../../src/vault/reconcile.ts';
import type { VaultDeps } from '../../../src/vault/connect.ts';
import type { VaultSessions } from '../../../src/vault/session.ts';
import { startControlPlane, type ControlPlane } from '../../env/controlplane.ts';
import { apiCaller } from '../../support/api-caller.ts';
import { makeTempDir, removeTempDir } from '../../env/process.ts';
import { startVault, type TestVault } from '../../env/vault.ts';
import { operatorDeps, readAppRoleCredentials, settingsFor } from './fixture.ts';
import { ensureNamespace } from '../../support/kube.ts';
import { TEST_OPERATOR_POLICY } from '../../support/stack.ts';

const NS = 'tenants';
const OPERATOR_NS = 'kmsstack-system';
let vault: TestVault;
let cp: ControlPlane;
let kube: KubeClient;
let dir: string;
let tokenFile: string;
let deps: VaultDeps;

before(async () => {
  [vault, cp] = await Promise.all([startVault(), startControlPlane({ installCRDs: false })]);
  kube = new KubeClient(cp.kubeConfig);
  await ensureNamespace(kube, NS);
  // Vault's token reviewer: a ServiceAccount allowed to create TokenReviews.
  const reviewerJWT = await cp.mintServiceAccountToken('vault', 'token-reviewer', { expirationSeconds: 7200 });
  await cp.kubectl(['create', 'clusterrolebinding', 'vault-token-reviewer', '--clusterrole=system:auth-delegator', '--serviceaccount=vault:token-reviewer']);
  await vault.writePolicy('kmsstack-operator', TEST_OPERATOR_POLICY);
  await vault.enableKubernetesAuth({
    kubernetesHost: cp.server, kubernetesCA: cp.caPem, tokenReviewerJWT: reviewerJWT,
    role: 'kmsstack', boundServiceAccountNames: ['kmsstack-operator'], boundServiceAccountNamespaces: [OPERATOR_NS],
    policies: ['kmsstack-operator'], tokenTTL: '10m',
  });
  dir = makeTempDir('vault-sa');
  tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, await cp.mintServiceAccountToken(OPERATOR_NS, 'kmsstack-operator'));
  deps = operatorDeps(kube, { serviceAccountTokenPath: tokenFile });
});

after(async () => {
  await Promise.all([vault?.stop(), cp?.stop()]);
  if (dir) removeTempDir(dir);
});

const kubernetesAuth = (role = 'kmsstack') => ({ auth: { kubernetes: { role, mountPath: 'kubernetes' } } });

test('the operator logs in with its ServiceAccount token (TokenReview) and sets up the deployment', async () => {
  const settings = settingsFor(vault, NS, 'k8s-auth', kubernetesAuth());
  const reviewsBefore = await cp.requestCount(['POST', 'CREATE', 'create'], 'tokenreviews');
  const outcome = await reconcileVault(deps, { settings, labels: {}, ownerReferences: [], now: new Date() });
  assert.equal(outcome.condition.reason, 'Configured', outcome.condition.message);
  assert.ok((await cp.requestCount(['POST', 'CREATE', 'create'], 'tokenreviews')) > reviewsBefore, 'Vault checked the token with a TokenReview');
  const { roleId, secretId } = await readAppRoleCredentials(kube, NS, 'k8s-auth');
  assert.ok(roleId && secretId);
});

test('the token is cached: no login per reconcile; renewed when it nears its TTL', async () => {
  const sessions = deps.sessions as VaultSessions;
  const settings = settingsFor(vault, NS, 'cached', kubernetesAuth());
  const loginsBefore = sessions.counts.login;
  for (let i = 0; i < 3; i++) {
    const outcome = await reconcileVault(deps, { settings, labels: {}, ownerReferences: [], now: new Date() });
    assert.equal(outcome.condition.reason, 'Configured', outcome.condition.message);
  }
  assert.equal(sessions.counts.login - loginsBefore, 1, 'one login for three reconciles');
  // Eight of the ten minutes later the token is due: it is renewed, not obtained again.
  const later = new Date(Date.now() + 8 * 60_000);
  const renewsBefore = sessions.counts.renew;
  const outcome = await reconcileVault(deps, { settings, labels: {}, ownerReferences: [], now: later });
  assert.equal(outcome.condition.reason, 'Configured', outcome.condition.message);
  assert.equal(sessions.counts.renew - renewsBefore, 1);
  assert.equal(sessions.counts.login - loginsBefore, 1);
});

test('a ServiceAccount the Vault role does not bind is refused: AuthFailed', async () => {
  const otherFile = join(dir, 'other-token');
  writeFileSync(otherFile, await cp.mintServiceAccountToken(OPERATOR_NS, 'someone-else'));
  const refusedDeps = operatorDeps(kube, { serviceAccountTokenPath: otherFile });
  const settings = settingsFor(vault, NS, 'refused', kubernetesAuth());
  const outcome = await reconcileVault(refusedDeps, { settings, labels: {}, ownerReferences: [], now: new Date() });
  assert.equal(outcome.condition.reason, 'AuthFailed');
  assert.match(outcome.condition.message, /log in with Kubernetes auth \(mount kubernetes, role kmsstack\): login refused/);
  assert.ok(!outcome.condition.message.includes('eyJ'), 'no JWT in the message');
});

test('a token the API server did not sign is refused by the TokenReview', async () => {
  const forgedFile = join(dir, 'forged');
  const [header, payload] = (await cp.mintServiceAccountToken(OPERATOR_NS, 'kmsstack-operator')).split('.');
  writeFileSync(forgedFile, `${header}.${payload}.${Buffer.from('not the signature').toString('base64url')}`);
  const forgedDeps = operatorDeps(kube, { serviceAccountTokenPath: forgedFile });
  const outcome = await reconcileVault(forgedDeps, { settings: settingsFor(vault, NS, 'forged', kubernetesAuth()), labels: {}, ownerReferences: [], now: new Date() });
  assert.equal(outcome.condition.reason, 'AuthFailed', outcome.condition.message);
});

test('a missing ServiceAccount token file is AuthFailed naming the path', async () => {
  const missingDeps = operatorDeps(kube, { serviceAccountTokenPath: join(dir, 'nope') });
  const outcome = await reconcileVault(missingDeps, { settings: settingsFor(vault, NS, 'nofile', kubernetesAuth()), labels: {}, ownerReferences: [], now: new Date() });
  assert.equal(outcome.condition.reason, 'AuthFailed');
  assert.match(outcome.condition.message, /ServiceAccount token at .*nope \(ENOENT\)/);
});

test('a role bound to the audience "vault" (as docs/vault.md sets it up) takes the chart\'s audience-bound token and refuses the API server\'s', async () => {
  await vault.enableKubernetesAuth({
    kubernetesHost: cp.server, kubernetesCA: cp.caPem,
    tokenReviewerJWT: await cp.mintServiceAccountToken('vault', 'token-reviewer', { expirationSeconds: 7200 }),
    role: 'kmsstack-audience', boundServiceAccountNames: ['kmsstack-operator'], boundServiceAccountNamespaces: [OPERATOR_NS],
    policies: ['kmsstack-operator'], tokenTTL: '10m', audience: 'vault',
  });
  const audienceFile = join(dir, 'vault-audience-token');
  const audienceToken = await cp.mintServiceAccountToken(OPERATOR_NS, 'kmsstack-operator', { audiences: ['vault'], expirationSeconds: 600 });
  writeFileSync(audienceFile, audienceToken);
  // What the operator hands to Vault is worth nothing against the cluster; the pod's API token is (the control).
  assert.equal((await apiCaller(cp.server, cp.caPem, audienceToken)('GET', '/api/v1/namespaces')).status, 401, 'the API server refuses the audience-bound token');
  assert.notEqual((await apiCaller(cp.server, cp.caPem, readFileSync(tokenFile, 'utf8'))('GET', '/api/v1/namespaces')).status, 401, 'the API server authenticates the pod\'s API token');
  const accepted = await reconcileVault(operatorDeps(kube, { serviceAccountTokenPath: audienceFile }), { settings: settingsFor(vault, NS, 'audience-ok', kubernetesAuth('kmsstack-audience')), labels: {}, ownerReferences: [], now: new Date() });
  assert.equal(accepted.condition.reason, 'Configured', accepted.condition.message);
  // The pod's default token (audience: the API server) is what a server posing as Vault could replay
  // against the Kubernetes API; a role bound to "vault" does not take it, and the API server does not take an audience-bound one.
  const refused = await reconcileVault(operatorDeps(kube, { serviceAccountTokenPath: tokenFile }), { settings: settingsFor(vault, NS, 'audience-wrong', kubernetesAuth('kmsstack-audience')), labels: {}, ownerReferences: [], now: new Date() });
  assert.equal(refused.condition.reason, 'AuthFailed', refused.condition.message);
});
