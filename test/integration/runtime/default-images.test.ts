// The operator-wide default images end to end: the operator process gets KMSSTACK_DEFAULT_KES_IMAGE
// and KMSSTACK_DEFAULT_MINIO_IMAGE (as the chart sets them), a real kube-apiserver stores
// KMSDeployments without images (the CRD has no image default), and the KES Deployment and MinIO
// StatefulSet the operator writes run the operator's images; an image in the spec (here the old CRD
// default, as an object created before the change still holds it) wins.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resources, type KubeObject } from '../../../src/runtime/kube/resources.ts';
import { waitFor } from '../../env/process.ts';
import { getDeployment, startFaultStack, vaultDeployment } from '../../faults/stack.ts';
import { suiteFixture } from '../../support/suite.ts';
import { inNamespace, kmsDeployment } from '../../support/kmsdeployment.ts';

const NS = 'images';
const mirror = {
  kes: 'registry.corp.example:5000/mirror/minio/kes:2025-03-12T09-35-18Z',
  minio: 'registry.corp.example:5000/mirror/minio/minio:RELEASE.2025-09-07T16-13-09Z',
};
const oldCrdDefault = 'minio/minio:RELEASE.2025-10-15T17-29-55Z';

type Workload = KubeObject & { spec: { template: { spec: { containers: { image?: string }[] } } } };

describe('operator-wide default images (operator process, real kube-apiserver and Vault)', { timeout: 300_000 }, () => {
  const stack = suiteFixture(() => startFaultStack({ namespace: NS }));

  before(async () => {
    await stack.startReconcilingOperator({
      leaseNamespace: NS,
      env: { KMSSTACK_DEFAULT_KES_IMAGE: mirror.kes, KMSSTACK_DEFAULT_MINIO_IMAGE: mirror.minio },
    });
  });


  /** The image of the first container of workload `name` once the operator has written it. */
  const imageOf = (kind: 'Deployment' | 'StatefulSet', name: string) =>
    waitFor(`${kind} ${name}`, async () => {
      const workload = (await stack.kube.get(resources[kind], NS, name)) as Workload | undefined;
      return workload?.spec.template.spec.containers[0]?.image;
    }, 90_000, 200);

  const storedSpec = async (name: string) => (await getDeployment(stack, NS, name))?.spec as { kes?: { image?: string }; minio?: { image?: string } };

  it('a Vault-mode KMSDeployment without images gets the operator\'s KES image; the object stays without one', async () => {
    await stack.kube.create(vaultDeployment(stack, NS, 'mirrored'));
    assert.equal(await imageOf('Deployment', 'mirrored-kes'), mirror.kes);
    const stored = await storedSpec('mirrored');
    assert.equal(stored.kes?.image, undefined, 'neither the API server nor the operator wrote an image into the spec');
    assert.equal(stored.minio?.image, undefined);
    const status = await waitFor('status.kes.image', async () => ((await getDeployment(stack, NS, 'mirrored'))?.status as { kes?: { image?: string } } | undefined)?.kes?.image);
    assert.equal(status, mirror.kes);
  });

  it('a StaticKey KMSDeployment without an image gets the operator\'s MinIO image', async () => {
    await stack.kube.create(kmsDeployment('dev', inNamespace(NS)));
    assert.equal(await imageOf('StatefulSet', 'dev-minio'), mirror.minio);
    assert.equal((await storedSpec('dev')).minio?.image, undefined);
  });

  it('an image in the spec wins over the operator-wide default, even the old CRD default', async () => {
    const pinned = kmsDeployment('pinned', inNamespace(NS));
    (pinned.spec as { minio: Record<string, unknown> }).minio.image = oldCrdDefault;
    await stack.kube.create(pinned);
    assert.equal(await imageOf('StatefulSet', 'pinned-minio'), oldCrdDefault);
  });
});
