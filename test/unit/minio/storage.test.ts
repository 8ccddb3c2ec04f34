import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1StatefulSet } from '@kubernetes/client-node';
import { claimBelow, claimNames, claimResize, growsDrives, keepCreatedSizes } from '../../../src/minio/storage.ts';
import { buildMinioStatefulSet } from '../../../src/minio/statefulset.ts';
import { compareQuantities } from '../../../src/runtime/quantity.ts';
import { ref, vaultSpec } from '../kes/fixtures.ts';

const sts = (size: string): V1StatefulSet =>
  buildMinioStatefulSet({ deployment: ref, spec: vaultSpec({ extra: { minio: { keyName: 'minio-key-1', replicas: 2, drivesPerServer: 2, storage: { size } } } }), configChecksum: 'c' });

describe('growing MinIO drives', () => {
  it('names the claims the StatefulSet controller makes, per template and ordinal', () => {
    assert.deepEqual(claimNames(sts('10Gi')), ['data1-tenant-a-minio-0', 'data1-tenant-a-minio-1', 'data2-tenant-a-minio-0', 'data2-tenant-a-minio-1']);
  });

  it('grows only to a larger size, comparing quantities by value', () => {
    const live = sts('10Gi');
    assert.equal(growsDrives(live, '20Gi'), true);
    assert.equal(growsDrives(live, '10240Mi'), false, 'the same size in other units');
    assert.equal(growsDrives(live, '5Gi'), false);
    assert.equal(growsDrives(undefined, '20Gi'), false, 'a new StatefulSet is created at the size');
    assert.equal(compareQuantities('1Ti', '1000Gi'), 1);
  });

  it('keeps the created size in the immutable claim templates', () => {
    const kept = keepCreatedSizes(sts('20Gi'), sts('10Gi'));
    assert.deepEqual(kept.spec?.volumeClaimTemplates?.map((t) => t.spec?.resources?.requests?.storage), ['10Gi', '10Gi']);
    assert.deepEqual(kept.spec?.template, sts('20Gi').spec?.template, 'the pods are unchanged');
  });

  it('applies only the size of a claim that asks for less', () => {
    assert.deepEqual(claimResize('data-1-x-0', 'storage', '20Gi'), { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data-1-x-0', namespace: 'storage' }, spec: { resources: { requests: { storage: '20Gi' } } } });
    assert.equal(claimBelow({ spec: { resources: { requests: { storage: '10Gi' } } } }, '20Gi'), true);
    assert.equal(claimBelow({ spec: { resources: { requests: { storage: '20480Mi' } } } }, '20Gi'), false);
  });
});
