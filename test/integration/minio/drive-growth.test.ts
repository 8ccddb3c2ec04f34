// Growing MinIO's drives on a real API server: a larger spec.minio.storage.size raises the request of
// each existing claim (the claims are made here as the StatefulSet controller would, and bound), the
// StatefulSet's immutable claim templates keep their size, and a StorageClass without
// allowVolumeExpansion gives StorageExpansionNotSupported with the claim left as it was — the API
// server's own PersistentVolumeClaimResize admission decides.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { resources, type KubeObject } from '../../../src/runtime/kube/resources.ts';
import type { KubeClient } from '../../../src/runtime/kube/client.ts';
import { autoEncrypting, getKMSDeployment, type RunningOperator, startOperatorIn, waitFor } from '../runtime/harness.ts';
import { inNamespace, kmsDeployment, withSpec } from '../../support/kmsdeployment.ts';

const NS = 'drives';
let kube: KubeClient;
let running: RunningOperator | undefined;

type Claim = KubeObject & { spec?: { resources?: { requests?: { storage?: string } } } };

async function storageClass(name: string, allowVolumeExpansion: boolean): Promise<void> {
  await kube.create({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name }, provisioner: 'example.com/test', allowVolumeExpansion } as KubeObject);
}

/** The claim the StatefulSet controller would make for pod 0, bound as a provisioner would leave it. */
async function boundClaim(deployment: string, className: string): Promise<string> {
  const name = `data1-${deployment}-minio-0`;
  await kube.create({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: NS }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: className, resources: { requests: { storage: '1Gi' } } } } as KubeObject);
  const claim = await kube.get(resources.PersistentVolumeClaim, NS, name);
  await kube.request('PUT', `/api/v1/namespaces/${NS}/persistentvolumeclaims/${name}/status`, {
    body: { ...claim, status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } } }, resource: 'persistentvolumeclaims', verb: 'update',
  });
  return name;
}

/** A KMSDeployment `name` with one 1Gi drive of `className`, waiting for its pod, and the claim of that drive, bound. */
async function deploymentWithBoundClaim(name: string, className: string): Promise<string> {
  await kube.create(kmsDeployment(name, inNamespace(NS), autoEncrypting, withSpec({ minio: { replicas: 1, keyName: 'dev-key', storage: { size: '1Gi', storageClassName: className } } })));
  await condition(name, 'MinIOAvailable', 'WaitingForPods');
  return boundClaim(name, className);
}

async function condition(name: string, type: string, reason: string): Promise<{ message: string }> {
  return waitFor(`${type} ${reason} on ${name}`, async () => (await getKMSDeployment(kube, NS, name))?.status?.conditions?.find((c) => c.type === type && c.reason === reason), 30_000);
}

async function grow(name: string, size: string): Promise<void> {
  const live = await getKMSDeployment(kube, NS, name);
  const spec = live?.spec as { minio: Record<string, unknown> };
  await kube.request('PATCH', `/apis/kmsstack.io/v1alpha1/namespaces/${NS}/kmsdeployments/${name}`, {
    body: { spec: { minio: { ...spec.minio, storage: { ...(spec.minio['storage'] as object), size } } } }, contentType: 'application/merge-patch+json', resource: 'kmsdeployments', verb: 'patch',
  });
}

before(async () => {
  running = await startOperatorIn(NS);
  kube = running.kube;
  await storageClass('expandable', true);
  await storageClass('fixed', false);
});
after(() => running?.stop());

describe('growing MinIO drives (real API server)', () => {
  it('raises every claim to the new size and keeps the StatefulSet as it was created', async () => {
    const claim = await deploymentWithBoundClaim('grows', 'expandable');
    await grow('grows', '2Gi');
    const grown = await waitFor('the claim to ask for 2Gi', async () => {
      const live = (await kube.get(resources.PersistentVolumeClaim, NS, claim)) as Claim | undefined;
      return live?.spec?.resources?.requests?.storage === '2Gi' ? live : undefined;
    });
    assert.ok(grown);
    const statefulSet = (await kube.get(resources.StatefulSet, NS, 'grows-minio')) as KubeObject & { spec: { volumeClaimTemplates: Claim[] } };
    assert.equal(statefulSet.spec.volumeClaimTemplates[0]?.spec?.resources?.requests?.storage, '1Gi', 'claim templates are immutable');
    await waitFor('the drive size recorded', async () => ((await kube.get(resources.StatefulSet, NS, 'grows-minio'))?.metadata.annotations?.['kmsstack.io/drive-size'] === '2Gi' ? true : undefined));
    assert.equal((await getKMSDeployment(kube, NS, 'grows'))?.status?.conditions?.find((c) => c.type === 'MinIOAvailable')?.reason, 'WaitingForPods');
  });

  it('reports StorageExpansionNotSupported when the class does not allow it, and changes nothing', async () => {
    const claim = await deploymentWithBoundClaim('fixed', 'fixed');
    const before = await kube.get(resources.PersistentVolumeClaim, NS, claim);
    await grow('fixed', '2Gi');
    const refused = await condition('fixed', 'MinIOAvailable', 'StorageExpansionNotSupported');
    assert.match(refused.message, /claim data1-fixed-minio-0 cannot grow to 2Gi .*set it back to 1Gi/);
    assert.equal((await kube.get(resources.PersistentVolumeClaim, NS, claim))?.metadata.resourceVersion, before?.metadata.resourceVersion);
  });

  it('refuses a smaller size', async () => {
    await grow('grows', '512Mi');
    const refused = await condition('grows', 'MinIOAvailable', 'UnsafeChangeRefused');
    assert.match(refused.message, /can grow but never shrink/);
  });
});
