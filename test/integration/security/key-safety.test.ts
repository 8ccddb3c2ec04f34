// Key safety, judged by Vault's audit log (every request Vault received) across whole lifecycles
// driven through the operator process:
// - keyDeletionPolicy: Retain (the default), KV v1 and v2: create, update (TTL, replicas, keys
//   list), delete — no delete request ever reaches a KV mount, and every key is still there;
// - keyDeletionPolicy: Delete: on deletion only the keys directly under the deployment's own prefix
//   are deleted — not a sibling prefix that shares its first characters, not a sub-folder, not the
//   parent — and nothing else on a KV mount.
// That the immutable fields (mode, kv.mountPath, kv.version, kv.prefix, minio.keyName) cannot be
// changed through the API is tested in test/integration/controlplane/api.test.ts (fixtures
// test/fixtures/invalid/change-*.yaml) against the same kube-apiserver.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resources } from '../../../src/runtime/kube/resources.ts';
import { waitFor } from '../../env/process.ts';
import { waitConverged, type Tracked } from '../../faults/checks.ts';
import type { OperatorProcess } from '../../faults/operator.ts';
import { getDeployment, patchSpec, startFaultStack, vaultDeployment } from '../../faults/stack.ts';
import { suiteFixture } from '../../support/suite.ts';
import { kvMountOf, kvPrefixOf } from '../../support/kmsdeployment.ts';
import { KesLikeClient, readAppRoleCredentials } from '../vault/fixture.ts';

const NS = 'keys';
const KV_MOUNTS = ['kv', 'kv2'];

describe('key safety: the operator deletes key material only with keyDeletionPolicy Delete, and only its own', { timeout: 300_000 }, () => {
  const stack = suiteFixture(() => startFaultStack({ namespace: NS }));
  let operator: OperatorProcess;

  before(async () => {
    await stack.vault.enableAudit();
    operator = await stack.startReconcilingOperator({ leaseNamespace: NS, leaseName: 'keys' });
  });


  /** Keys created as KES creates them, with the deployment's AppRole credentials. */
  async function kesCreate(t: Tracked, keys: string[]): Promise<void> {
    const { roleId, secretId } = await readAppRoleCredentials(stack.kube, t.namespace, t.name);
    const kes = await KesLikeClient.login(stack.vault, roleId, secretId, kvMountOf(t.kvVersion), t.kvVersion ?? 'v1');
    for (const key of keys) await kes.create(`${kvPrefixOf(t.namespace, t.name)}/${key}`, `value-of-${key}`);
  }

  /** A key read as root: its value, or undefined when it is gone. */
  async function readKey(version: 'v1' | 'v2', path: string): Promise<string | undefined> {
    const res = await stack.vault.request('GET', version === 'v2' ? `kv2/data/${path}` : `kv/${path}`);
    if (res.status === 404) return undefined;
    const data = res.body?.['data'] as Record<string, unknown>;
    const entry = (version === 'v2' ? data['data'] : data) as Record<string, string>;
    return entry[path.split('/').pop() as string];
  }

  async function writeKeyAsRoot(version: 'v1' | 'v2', path: string): Promise<void> {
    const name = path.split('/').pop() as string;
    const res = await stack.vault.request('POST', version === 'v2' ? `kv2/data/${path}` : `kv/${path}`, version === 'v2' ? { data: { [name]: `value-of-${name}` } } : { [name]: `value-of-${name}` });
    assert.ok(res.status < 300, `write ${path}: ${res.status}`);
  }

  const kvDeletes = () => stack.vault.auditedRequests().filter((r) => r.operation === 'delete' && KV_MOUNTS.some((m) => r.path.startsWith(`${m}/`)));
  const gone = (name: string) => waitFor(`${name} to be deleted`, async () => ((await getDeployment(stack, NS, name)) ? undefined : true), 60_000, 200);

  it('Retain (default), KV v1 and v2: create, update, delete — no delete request on a KV mount, every key still there', async () => {
    const retained: Tracked[] = [{ namespace: NS, name: 'keep1' }, { namespace: NS, name: 'keep2', kvVersion: 'v2' }];
    for (const t of retained) await stack.kube.create(vaultDeployment(stack, NS, t.name, { kvVersion: t.kvVersion ?? 'v1' }));
    await waitConverged(stack, retained, [], 60_000, () => operator.assertAlive());
    for (const t of retained) await kesCreate(t, ['minio-key-1', 'minio-key-2']);
    for (const t of retained) {
      await patchSpec(stack, NS, t.name, { vault: { appRole: { tokenTTL: '10m' } }, kes: { replicas: 3, keys: [{ name: 'minio-key-1' }, { name: 'minio-key-3' }] } });
    }
    await waitConverged(stack, retained, [], 60_000, () => operator.assertAlive());
    for (const t of retained) await stack.kube.delete(resources.KMSDeployment, NS, t.name);
    for (const t of retained) await gone(t.name);
    assert.deepEqual(kvDeletes(), [], 'no delete request reached a KV mount');
    for (const t of retained) {
      for (const key of ['minio-key-1', 'minio-key-2']) assert.equal(await readKey(t.kvVersion ?? 'v1', `${kvPrefixOf(NS, t.name)}/${key}`), `value-of-${key}`, `${t.name}/${key} kept`);
    }
  });

  it('Delete: deletes exactly the keys directly under its own prefix, on deletion', async () => {
    const doomed: Tracked[] = [{ namespace: NS, name: 'del' }, { namespace: NS, name: 'del2', kvVersion: 'v2' }];
    // "delx" shares the first characters of del's prefix (kmsstack/keys/del vs kmsstack/keys/delx).
    const sibling: Tracked = { namespace: NS, name: 'delx' };
    for (const t of doomed) await stack.kube.create(vaultDeployment(stack, NS, t.name, { kvVersion: t.kvVersion ?? 'v1', keyDeletionPolicy: 'Delete' }));
    await stack.kube.create(vaultDeployment(stack, NS, sibling.name));
    await waitConverged(stack, [...doomed, sibling], [], 60_000, () => operator.assertAlive());
    for (const t of [...doomed, sibling]) await kesCreate(t, ['minio-key-1', 'minio-key-2']);
    const untouchable = [
      ['v1', `${kvPrefixOf(NS, 'del')}/sub/inner`], ['v2', `${kvPrefixOf(NS, 'del2')}/sub/inner`], ['v1', `kmsstack/${NS}/outside`], ['v1', 'kmsstack/keys-outside'],
    ] as const;
    for (const [version, path] of untouchable) await writeKeyAsRoot(version, path);
    const deletesBefore = kvDeletes().length;

    for (const t of doomed) await stack.kube.delete(resources.KMSDeployment, NS, t.name);
    for (const t of doomed) await gone(t.name);

    const deletes = kvDeletes().slice(deletesBefore).map((r) => r.path).sort();
    const own = [
      `kv/${kvPrefixOf(NS, 'del')}/minio-key-1`, `kv/${kvPrefixOf(NS, 'del')}/minio-key-2`,
      `kv2/metadata/${kvPrefixOf(NS, 'del2')}/minio-key-1`, `kv2/metadata/${kvPrefixOf(NS, 'del2')}/minio-key-2`,
    ].sort();
    assert.deepEqual(deletes, own, 'the only KV deletes are the keys directly under the deleted deployments\' prefixes');
    for (const t of doomed) assert.equal(await readKey(t.kvVersion ?? 'v1', `${kvPrefixOf(NS, t.name)}/minio-key-1`), undefined, `${t.name}'s key is deleted`);
    for (const key of ['minio-key-1', 'minio-key-2']) assert.equal(await readKey('v1', `${kvPrefixOf(NS, 'delx')}/${key}`), `value-of-${key}`, 'the sibling prefix keeps its keys');
    for (const [version, path] of untouchable) assert.ok(await readKey(version, path), `${path} is left alone`);
    operator.assertAlive();
    await operator.stop();
  });
});
