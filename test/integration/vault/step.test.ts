// The Vault step and cleanup plugged into the real operator runtime (Manager, informers, work queue,
// children, finalizer) against a real kube-apiserver and a real Vault.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resources, type KubeObject } from '../../../src/runtime/kube/resources.ts';
import { appRoleSecretName, SKIP_VAULT_CLEANUP_ANNOTATION } from '../../../src/vault/names.ts';
import { inNamespace, kmsDeployment, withAnnotations, withVault } from '../../support/kmsdeployment.ts';
import { startStack } from '../../support/stack.ts';
import { suiteFixture } from '../../support/suite.ts';
import { getKMSDeployment, waitFor, WRITE_VERBS } from '../runtime/harness.ts';
import { KesLikeClient, readAppRoleCredentials, vaultStageOnly } from './fixture.ts';

const NS = 'step';
const stack = suiteFixture(() => startStack({ namespace: NS, manager: vaultStageOnly }));

function deployment(name: string, annotations: Record<string, string> = {}): KubeObject {
  return kmsDeployment(name, inNamespace(NS), withVault(stack.vault), withAnnotations(annotations));
}

async function condition(name: string, type: string) {
  return (await getKMSDeployment(stack.kube, NS, name))?.status?.conditions?.find((c) => c.type === type);
}

test('a KMSDeployment gets VaultConfigured=True and an owned AppRole Secret that logs in', async () => {
  await stack.kube.create(deployment('tenant-a'));
  const configured = await waitFor('VaultConfigured=True', async () => {
    const c = await condition('tenant-a', 'VaultConfigured');
    return c?.status === 'True' ? c : undefined;
  });
  assert.equal(configured.reason, 'Configured');
  const { roleId, secretId, secret } = await readAppRoleCredentials(stack.kube, NS, 'tenant-a');
  assert.equal(secret.metadata.ownerReferences?.[0]?.kind, 'KMSDeployment');
  assert.equal(secret.metadata.labels?.['app.kubernetes.io/managed-by'], 'kmsstack-operator');
  await KesLikeClient.login(stack.vault, roleId, secretId, 'kv', 'v1');
  const object = await getKMSDeployment(stack.kube, NS, 'tenant-a');
  assert.equal((object?.status as { vault?: { policy?: string } } | undefined)?.vault?.policy, `kmsstack_default_${NS}_tenant-a`);
});

test('a reconcile with nothing to change writes nothing to Vault nor to the AppRole Secret', async () => {
  await stack.vault.enableAudit();
  const vaultRequests = stack.vault.auditedRequests().length;
  const vaultWrites = stack.vault.auditedWrites().length;
  const secretWrites = await stack.plane.requestCount(WRITE_VERBS, 'secrets');
  const secretBefore = await stack.kube.get(resources.Secret, NS, appRoleSecretName('tenant-a'));
  // An annotation change is a watch event: the operator reconciles, and has nothing to do.
  await stack.kube.apply({ apiVersion: resources.KMSDeployment.apiVersion, kind: 'KMSDeployment', metadata: { name: 'tenant-a', namespace: NS, annotations: { poke: '1' } } });
  const policyPath = `sys/policies/acl/kmsstack_default_${NS}_tenant-a`;
  await waitFor('the poked reconcile to read Vault', async () => (stack.vault.auditedRequests().slice(vaultRequests).some((r) => r.path === policyPath) ? true : undefined));
  await waitFor('the reconcile to finish', async () => (stack.manager.queue.length === 0 ? true : undefined));
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.deepEqual(stack.vault.auditedWrites().slice(vaultWrites), []);
  assert.equal(await stack.plane.requestCount(WRITE_VERBS, 'secrets'), secretWrites);
  const secretAfter = await stack.kube.get(resources.Secret, NS, appRoleSecretName('tenant-a'));
  assert.equal(secretAfter?.metadata.resourceVersion, secretBefore?.metadata.resourceVersion);
});

test('deleting the KMSDeployment removes role and policy, then releases it', async () => {
  await stack.kube.delete(resources.KMSDeployment, NS, 'tenant-a');
  await waitFor('the KMSDeployment to be gone', async () => ((await getKMSDeployment(stack.kube, NS, 'tenant-a')) ? undefined : true));
  assert.equal((await stack.vault.request('GET', `auth/approle/role/kmsstack_default_${NS}_tenant-a`)).status, 404);
  assert.equal((await stack.vault.request('GET', `sys/policies/acl/kmsstack_default_${NS}_tenant-a`)).status, 404);
});

test('with Vault unreachable the deletion waits; the skip annotation releases it', async () => {
  await stack.kube.create(deployment('tenant-b'));
  await waitFor('VaultConfigured=True', async () => ((await condition('tenant-b', 'VaultConfigured'))?.status === 'True' ? true : undefined));
  await stack.vault.halt();
  try {
    await stack.kube.delete(resources.KMSDeployment, NS, 'tenant-b');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.ok(await getKMSDeployment(stack.kube, NS, 'tenant-b'), 'kept while the cleanup fails');
    await stack.kube.apply({ apiVersion: resources.KMSDeployment.apiVersion, kind: 'KMSDeployment', metadata: { name: 'tenant-b', namespace: NS, annotations: { [SKIP_VAULT_CLEANUP_ANNOTATION]: 'true' } } });
    await waitFor('the KMSDeployment to be released', async () => ((await getKMSDeployment(stack.kube, NS, 'tenant-b')) ? undefined : true));
  } finally {
    await stack.vault.start();
  }
});
