// The Vault step and cleanup plugged into the real operator runtime (Manager, informers, work queue,
// children, finalizer) against a real kube-apiserver and a real Vault.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeClient } from '../../../src/runtime/kube/client.ts';
import { resources, type KubeObject } from '../../../src/runtime/kube/resources.ts';
import type { Manager } from '../../../src/runtime/manager.ts';
import { appRoleSecretName, SKIP_VAULT_CLEANUP_ANNOTATION } from '../../../src/vault/names.ts';
import { startControlPlane, type ControlPlane } from '../../env/controlplane.ts';
import { startVault, type TestVault } from '../../env/vault.ts';
import { adminClient, createNamespace, getKMSDeployment, waitFor, WRITE_VERBS } from '../runtime/harness.ts';
import { KesLikeClient, operatorToken, putSecret, readAppRoleCredentials, startVaultStageManager } from './fixture.ts';

const NS = 'step';
let vault: TestVault;
let cp: ControlPlane;
let kube: KubeClient;
let manager: Manager;

function kmsDeployment(name: string, annotations: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: resources.KMSDeployment.apiVersion,
    kind: 'KMSDeployment',
    metadata: { name, namespace: NS, annotations },
    spec: {
      vault: {
        address: vault.address,
        auth: { token: { secretRef: { name: 'vault-operator-token' } } },
        kv: { mountPath: 'kv', version: 'v1', prefix: `kmsstack/${NS}/${name}` },
      },
      kes: { keys: [{ name: 'minio-key-1' }] },
      minio: { keyName: 'minio-key-1' },
    },
  };
}

async function condition(name: string, type: string) {
  return (await getKMSDeployment(kube, NS, name))?.status?.conditions?.find((c) => c.type === type);
}

before(async () => {
  [vault, cp] = await Promise.all([startVault(), startControlPlane()]);
  kube = adminClient(cp);
  await createNamespace(kube, NS);
  await putSecret(kube, NS, 'vault-operator-token', { token: await operatorToken(vault) });
  manager = await startVaultStageManager(cp, vault);
});

after(async () => {
  await manager?.stop();
  await Promise.all([vault?.stop(), cp?.stop()]);
});

test('a KMSDeployment gets VaultConfigured=True and an owned AppRole Secret that logs in', async () => {
  await kube.create(kmsDeployment('tenant-a'));
  const configured = await waitFor('VaultConfigured=True', async () => {
    const c = await condition('tenant-a', 'VaultConfigured');
    return c?.status === 'True' ? c : undefined;
  });
  assert.equal(configured.reason, 'Configured');
  const { roleId, secretId, secret } = await readAppRoleCredentials(kube, NS, 'tenant-a');
  assert.equal(secret.metadata.ownerReferences?.[0]?.kind, 'KMSDeployment');
  assert.equal(secret.metadata.labels?.['app.kubernetes.io/managed-by'], 'kmsstack-operator');
  await KesLikeClient.login(vault, roleId, secretId, 'kv', 'v1');
  const object = await getKMSDeployment(kube, NS, 'tenant-a');
  assert.equal((object?.status as { vault?: { policy?: string } } | undefined)?.vault?.policy, `kmsstack_default_${NS}_tenant-a`);
});

test('a reconcile with nothing to change writes nothing to Vault nor to the AppRole Secret', async () => {
  await vault.enableAudit();
  const vaultRequests = vault.auditedRequests().length;
  const vaultWrites = vault.auditedWrites().length;
  const secretWrites = await cp.requestCount(WRITE_VERBS, 'secrets');
  const secretBefore = await kube.get(resources.Secret, NS, appRoleSecretName('tenant-a'));
  // An annotation change is a watch event: the operator reconciles, and has nothing to do.
  await kube.apply({ apiVersion: resources.KMSDeployment.apiVersion, kind: 'KMSDeployment', metadata: { name: 'tenant-a', namespace: NS, annotations: { poke: '1' } } });
  const policyPath = `sys/policies/acl/kmsstack_default_${NS}_tenant-a`;
  await waitFor('the poked reconcile to read Vault', async () => (vault.auditedRequests().slice(vaultRequests).some((r) => r.path === policyPath) ? true : undefined));
  await waitFor('the reconcile to finish', async () => (manager.queue.length === 0 ? true : undefined));
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.deepEqual(vault.auditedWrites().slice(vaultWrites), []);
  assert.equal(await cp.requestCount(WRITE_VERBS, 'secrets'), secretWrites);
  const secretAfter = await kube.get(resources.Secret, NS, appRoleSecretName('tenant-a'));
  assert.equal(secretAfter?.metadata.resourceVersion, secretBefore?.metadata.resourceVersion);
});

test('deleting the KMSDeployment removes role and policy, then releases it', async () => {
  await kube.delete(resources.KMSDeployment, NS, 'tenant-a');
  await waitFor('the KMSDeployment to be gone', async () => ((await getKMSDeployment(kube, NS, 'tenant-a')) ? undefined : true));
  assert.equal((await vault.request('GET', `auth/approle/role/kmsstack_default_${NS}_tenant-a`)).status, 404);
  assert.equal((await vault.request('GET', `sys/policies/acl/kmsstack_default_${NS}_tenant-a`)).status, 404);
});

test('with Vault unreachable the deletion waits; the skip annotation releases it', async () => {
  await kube.create(kmsDeployment('tenant-b'));
  await waitFor('VaultConfigured=True', async () => ((await condition('tenant-b', 'VaultConfigured'))?.status === 'True' ? true : undefined));
  await vault.halt();
  try {
    await kube.delete(resources.KMSDeployment, NS, 'tenant-b');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.ok(await getKMSDeployment(kube, NS, 'tenant-b'), 'kept while the cleanup fails');
    await kube.apply({ apiVersion: resources.KMSDeployment.apiVersion, kind: 'KMSDeployment', metadata: { name: 'tenant-b', namespace: NS, annotations: { [SKIP_VAULT_CLEANUP_ANNOTATION]: 'true' } } });
    await waitFor('the KMSDeployment to be released', async () => ((await getKMSDeployment(kube, NS, 'tenant-b')) ? undefined : true));
  } finally {
    await vault.start();
  }
});
