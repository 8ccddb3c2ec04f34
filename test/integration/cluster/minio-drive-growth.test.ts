// Growing MinIO's drives on the local test cluster (issue 21, "a storage size increase expands the
// claims"): examples/kmsdeployment-minimal.yaml with 1Gi drives, the operator installed with helm, real
// KES on the test's Vault and real MinIO in the Pods. An object is written encrypted (SSE-KMS through
// KES), spec.minio.storage.size is raised to 2Gi, and every claim is expanded the way a real cluster
// does it: the operator raises each claim's request, the node agent's resizer (test/env/node-agent/
// resizer.ts, standing in for the CSI external-resizer and the kubelet) grows the PV, the filesystem and
// the claim's status.capacity. The object then reads back byte-identical. The refusal (a StorageClass
// without allowVolumeExpansion) is test/integration/minio/drive-growth.test.ts, on the real API server.
// Serialize with the heavy-run lock (docs/testing.md).
import assert from 'node:assert/strict';
import { readFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as yaml from 'js-yaml';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { clusterUnavailable, stopWithoutLeftovers } from '../../env/cluster.ts';
import {
  exposeVault, installOperator, kubectlWaitReady, prepareNamespace, s3Client, setUpVault, startE2EStack, type E2EStack,
} from '../../env/e2e-stack.ts';
import { repoRoot, waitFor } from '../../env/process.ts';
import { missingProgram } from '../../env/programs.ts';
import { quantityBytes } from '../../env/node-agent/disks.ts';

const NS = 'storage';
const NAME = 'minio-kms';
const skip = clusterUnavailable() || missingProgram('kes') || missingProgram('minio') || false;

type Claim = {
  metadata: { name: string };
  spec: { volumeName?: string; resources: { requests: { storage: string } } };
  status: { phase?: string; capacity?: { storage?: string }; allocatedResources?: { storage?: string }; allocatedResourceStatuses?: Record<string, string>; conditions?: { type: string }[] };
};
type Volume = { spec: { capacity: { storage: string }; hostPath?: { path: string } } };

describe('growing MinIO drives on the local cluster', { skip }, () => {
  let stack: E2EStack;
  const body = Buffer.from(`ledger ${'g'.repeat(4096)}`);
  const claims = async () => ((await stack.json(['get', 'pvc', '-n', NS])) as { items: Claim[] }).items;

  before(async () => {
    stack = await startE2EStack();
    await exposeVault(stack);
    await setUpVault(stack);
    await prepareNamespace(stack, NS);
    await installOperator(stack, [NS]);
    const example = yaml.load(readFileSync(join(repoRoot, 'examples/kmsdeployment-minimal.yaml'), 'utf8')) as { spec: { minio: Record<string, unknown> } };
    example.spec.minio['storage'] = { size: '1Gi' };
    await stack.cluster.kubectl(['apply', '-n', NS, '-f', '-'], yaml.dump(example));
    await kubectlWaitReady(stack, NS, NAME, '300s');
  });
  after(async () => {
    await stopWithoutLeftovers(stack);
  });

  it('writes an object encrypted through KES on 1Gi drives', async () => {
    const bound = await claims();
    assert.ok(bound.length > 0, 'MinIO has claims');
    for (const claim of bound) assert.equal(claim.status.capacity?.storage, '1Gi', claim.metadata.name);
    const { s3, close } = await s3Client(stack, NS, NAME);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'ledger' }));
      await s3.send(new PutObjectCommand({ Bucket: 'ledger', Key: 'entry-1', Body: body, ServerSideEncryption: 'aws:kms' }));
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'ledger', Key: 'entry-1' }));
      assert.equal(head.ServerSideEncryption, 'aws:kms');
    } finally {
      await close();
    }
  });

  it('a storage size increase expands every claim, its PV and its filesystem, and the object reads back', async () => {
    await stack.cluster.kubectl(['patch', 'kmsdeployment', NAME, '-n', NS, '--type', 'merge', '-p', JSON.stringify({ spec: { minio: { storage: { size: '2Gi' } } } })]);
    const grown = await waitFor('every claim to have 2Gi in status.capacity', async () => {
      const all = await claims();
      return all.length > 0 && all.every((c) => c.status.capacity?.storage === '2Gi') ? all : undefined;
    }, 180_000, 1000).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${stack.diagnostics()}`);
    });
    for (const claim of grown) {
      assert.equal(claim.spec.resources.requests.storage, '2Gi', claim.metadata.name);
      assert.equal(claim.status.allocatedResources?.storage, '2Gi', `${claim.metadata.name}: allocatedResources, as the resizer leaves it`);
      assert.equal(claim.status.allocatedResourceStatuses?.['storage'], undefined, `${claim.metadata.name}: no resize under way`);
      assert.deepEqual((claim.status.conditions ?? []).filter((c) => c.type === 'Resizing' || c.type === 'FileSystemResizePending'), [], claim.metadata.name);
      const volume = (await stack.json(['get', 'pv', claim.spec.volumeName!])) as unknown as Volume;
      assert.equal(volume.spec.capacity.storage, '2Gi', `PV of ${claim.metadata.name}`);
      // The test runs the node agent in its own process, so the volume's tmpfs is in this mount namespace.
      const stats = statfsSync(volume.spec.hostPath!.path);
      assert.ok(stats.blocks * stats.bsize >= quantityBytes('2Gi')!, `the filesystem of ${claim.metadata.name} is 2Gi: ${stats.blocks * stats.bsize} bytes`);
    }
    await waitFor('the drive size recorded on the StatefulSet', async () => {
      const statefulSet = (await stack.json(['get', 'statefulset', `${NAME}-minio`, '-n', NS])) as { metadata: { annotations?: Record<string, string> } };
      return statefulSet.metadata.annotations?.['kmsstack.io/drive-size'] === '2Gi' ? true : undefined;
    }, 60_000, 1000);
    await kubectlWaitReady(stack, NS, NAME, '120s');
    const { s3, close } = await s3Client(stack, NS, NAME);
    try {
      const got = await s3.send(new GetObjectCommand({ Bucket: 'ledger', Key: 'entry-1' }));
      assert.equal(got.ServerSideEncryption, 'aws:kms');
      assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), body);
    } finally {
      await close();
    }
  });
});
