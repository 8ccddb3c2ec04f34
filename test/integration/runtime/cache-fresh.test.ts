// The informer caches against a real kube-apiserver: what they keep of an object (no managedFields),
// and read-your-writes (ClusterCache.fresh / readFresh): a read never returns an object older than
// this process's last write of it, and comes from the cache once the cache has caught up.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startControlPlane, type ControlPlane } from '../../env/controlplane.ts';
import { waitFor } from '../../env/process.ts';
import { testLogger } from '../../support/logger.ts';
import { ClusterCache, MANAGED_BY, MANAGED_BY_LABEL, readFresh } from '../../../src/runtime/cache.ts';
import { KubeClient } from '../../../src/runtime/kube/client.ts';
import { resources, type KubeObject } from '../../../src/runtime/kube/resources.ts';
import { ensureNamespace } from '../../support/kube.ts';

const NS = 'fresh';

function secret(name: string, value: string, labelled = true): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name, namespace: NS, ...(labelled ? { labels: { [MANAGED_BY_LABEL]: MANAGED_BY } } : {}) },
    data: { value: Buffer.from(value).toString('base64') },
  };
}

const valueOf = (obj: KubeObject | undefined) => (obj ? Buffer.from((obj['data'] as { value: string }).value, 'base64').toString() : undefined);

describe('ClusterCache: cached form and read-your-writes (real kube-apiserver)', { timeout: 120_000 }, () => {
  let plane: ControlPlane;
  let admin: KubeClient;
  let client: KubeClient;
  let cache: ClusterCache;

  before(async () => {
    plane = await startControlPlane();
    admin = new KubeClient(plane.kubeConfig, 'test-admin');
    await ensureNamespace(admin, NS);
    client = new KubeClient(plane.kubeConfig);
    cache = new ClusterCache(client, [{ kind: 'Secret', labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` }], [NS], testLogger());
    await cache.start();
  });

  after(async () => {
    await cache?.stop();
    await client?.close();
    await admin?.close();
    await plane?.stop();
  });

  it('keeps objects without metadata.managedFields, from the list and from the watch', async () => {
    await admin.apply(secret('listed', 'a'));
    const watched = await waitFor('the Secret in the cache', async () => cache.get('Secret', NS, 'listed'));
    const live = await admin.get(resources.Secret, NS, 'listed');
    assert.ok(live?.metadata.managedFields, 'the API server sends managedFields');
    assert.equal(watched.metadata.managedFields, undefined);
    assert.equal(valueOf(watched), 'a');
    const relisted = new ClusterCache(client, [{ kind: 'Secret' }], [NS], testLogger());
    await relisted.start();
    try {
      assert.equal(relisted.get('Secret', NS, 'listed')?.metadata.managedFields, undefined);
    } finally {
      await relisted.stop();
    }
  });

  it('answers from the cache only once it has caught up with this client\'s write', async () => {
    await client.apply(secret('ours', 'v1'));
    await waitFor('the first version cached', async () => (valueOf(cache.get('Secret', NS, 'ours')) === 'v1' ? true : undefined));
    // While the watch is stopped the cache cannot catch up: fresh() must refuse the old version.
    await cache.stop();
    const written = await client.apply(secret('ours', 'v2'));
    assert.equal(valueOf(cache.get('Secret', NS, 'ours')), 'v1', 'the cache is stale');
    assert.equal(cache.fresh('Secret', NS, 'ours'), undefined);
    assert.equal(valueOf(await readFresh(cache, client, 'Secret', NS, 'ours')), 'v2', 'readFresh reads the API server then');
    await cache.start();
    const fresh = await waitFor('the cache caught up', async () => cache.fresh('Secret', NS, 'ours'));
    assert.equal(valueOf(fresh.object), 'v2');
    assert.equal(fresh.object?.metadata.resourceVersion, written.metadata.resourceVersion);
    assert.equal(cache.pendingWrites, 0, 'nothing left to wait for');
  });

  it('after a delete, never answers with the deleted object', async () => {
    await client.apply(secret('doomed', 'x'));
    const cached = await waitFor('cached', async () => cache.fresh('Secret', NS, 'doomed')?.object);
    await cache.stop();
    assert.equal(await client.delete(resources.Secret, NS, 'doomed', cached.metadata.uid), true);
    assert.equal(cache.fresh('Secret', NS, 'doomed'), undefined, 'the stale cache still holds it');
    await cache.start();
    await waitFor('the delete seen', async () => (cache.get('Secret', NS, 'doomed') ? undefined : true));
    assert.equal(cache.fresh('Secret', NS, 'doomed')?.object, undefined);
    assert.equal(await readFresh(cache, client, 'Secret', NS, 'doomed'), undefined);
    assert.equal(cache.pendingWrites, 0);
  });

  it('does not answer for an object the cache does not hold and this process never wrote (it may exist without the labels)', async () => {
    await admin.apply(secret('foreign', 'f', false));
    assert.equal(cache.fresh('Secret', NS, 'foreign'), undefined);
    assert.equal(valueOf(await readFresh(cache, client, 'Secret', NS, 'foreign')), 'f');
  });
});
