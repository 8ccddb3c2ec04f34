// MinIO server pools on a real API server with the operator running: adding a pool creates its own
// StatefulSet and gives every server the list of all pools; the CRD's rules refuse removing or
// reordering a pool, the operator refuses reshaping one (naming its field), and a single-server first
// pool cannot take more pools. No kubelet here: the restart of the first pool's servers is covered by
// the step's unit test and by the cluster test (test/integration/cluster/minio-pools.test.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeApiError, type KubeClient } from '../../../src/runtime/kube/client.ts';
import { resources, type KubeObject } from '../../../src/runtime/kube/resources.ts';
import { getKMSDeployment, staticDeployment, startOperatorIn, waitFor, type RunningOperator } from '../runtime/harness.ts';

const NS = 'pools';
let kube: KubeClient;
let running: RunningOperator | undefined;

type StatefulSetView = KubeObject & { spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: { spec: { containers: { args: string[] }[] } } } };
type Pool = { name: string; servers: number; drivesPerServer?: number };

const minio = (pools?: Pool[]) => ({ replicas: 4, keyName: 'dev-key', storage: { size: '1Gi' }, ...(pools ? { pools } : {}) });
const statefulSet = (name: string) => kube.get<StatefulSetView>(resources.StatefulSet, NS, name);

async function setPools(name: string, pools: Pool[]): Promise<void> {
  await kube.request('PATCH', `/apis/kmsstack.io/v1alpha1/namespaces/${NS}/kmsdeployments/${name}`, {
    body: { spec: { minio: { pools } } }, contentType: 'application/merge-patch+json', resource: 'kmsdeployments', verb: 'patch',
  });
}

async function refusal(name: string, pools: Pool[]): Promise<string> {
  try {
    await setPools(name, pools);
  } catch (err) {
    assert.ok(err instanceof KubeApiError && err.statusCode === 422, String(err));
    return err.message;
  }
  assert.fail('the API server accepted the change');
}

async function condition(name: string, type: string, reason: string): Promise<{ message: string }> {
  return waitFor(`${type} ${reason} on ${name}`, async () => (await getKMSDeployment(kube, NS, name))?.status?.conditions?.find((c) => c.type === type && c.reason === reason), 30_000);
}

before(async () => {
  running = await startOperatorIn(NS);
  kube = running.kube;
});
after(() => running?.stop());

describe('MinIO server pools (real API server)', () => {
  it('adding a pool creates its StatefulSet, and every server of both pools gets both pools', async () => {
    await kube.create(staticDeployment(NS, 'grow', { minio: minio() }));
    const before = await waitFor('the first pool', () => statefulSet('grow-minio'));
    assert.equal(before.spec.template.spec.containers[0]?.args.filter((a) => a.startsWith('https://')).length, 1);
    await setPools('grow', [{ name: 'p2', servers: 4, drivesPerServer: 2 }]);
    const second = await waitFor('the second pool', () => statefulSet('grow-minio-p2'));
    assert.equal(second.spec.replicas, 4);
    assert.deepEqual(second.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'minio', 'app.kubernetes.io/instance': 'grow', 'kmsstack.io/pool': 'p2' });
    const endpoints = [
      `https://grow-minio-{0...3}.grow-minio-hl.${NS}.svc.cluster.local/data1`,
      `https://grow-minio-p2-{0...3}.grow-minio-hl.${NS}.svc.cluster.local/data{1...2}`,
    ];
    assert.deepEqual(second.spec.template.spec.containers[0]?.args.slice(-2), endpoints);
    await waitFor('the first pool on the new list', async () => {
      const first = await statefulSet('grow-minio');
      return JSON.stringify(first?.spec.template.spec.containers[0]?.args.slice(-2)) === JSON.stringify(endpoints) ? true : undefined;
    });
    assert.ok(second.metadata.annotations?.['kmsstack.io/pool-layout'], 'the new pool starts on the current list');
  });

  it('the CRD refuses removing or reordering a pool', async () => {
    await setPools('grow', [{ name: 'p2', servers: 4, drivesPerServer: 2 }, { name: 'p3', servers: 4 }]);
    assert.match(await refusal('grow', [{ name: 'p3', servers: 4 }]), /a server pool cannot be removed/);
    assert.match(await refusal('grow', [{ name: 'p3', servers: 4 }, { name: 'p2', servers: 4, drivesPerServer: 2 }]), /server pools keep their order/);
    await waitFor('the third pool', () => statefulSet('grow-minio-p3'));
  });

  it('the operator refuses reshaping a pool, naming its field, and leaves its StatefulSet alone', async () => {
    await setPools('grow', [{ name: 'p2', servers: 8, drivesPerServer: 2 }, { name: 'p3', servers: 4 }]);
    const refused = await condition('grow', 'MinIOAvailable', 'UnsafeChangeRefused');
    assert.match(refused.message, /^spec\.minio\.pools\[0\]\.servers: MinIO runs with 4 server\(s\) in this pool; changing to 8/);
    assert.equal((await statefulSet('grow-minio-p2'))?.spec.replicas, 4);
  });

  it('a single-server first pool cannot take more pools (SpecValid)', async () => {
    await kube.create(staticDeployment(NS, 'single', { minio: { ...minio([{ name: 'p2', servers: 4 }]), replicas: 1 } }));
    const invalid = await condition('single', 'SpecValid', 'InvalidSpec');
    assert.match(invalid.message, /spec\.minio\.pools: server pools need a distributed first pool/);
    assert.equal(await statefulSet('single-minio-p2'), undefined);
  });
});
