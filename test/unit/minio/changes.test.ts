import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyDefaults } from '../../../src/api/index.ts';
import { unsafeMinioChange } from '../../../src/minio/changes.ts';
import { buildMinioStatefulSet } from '../../../src/minio/statefulset.ts';
import { ref, vaultSpec } from '../kes/fixtures.ts';

function sts(minio: Record<string, unknown>) {
  const spec = applyDefaults({ ...vaultSpec(), minio: { keyName: 'minio-key-1', ...minio } });
  return buildMinioStatefulSet({ deployment: ref, spec, configChecksum: 'x' });
}

describe('unsafeMinioChange', () => {
  const current = sts({ replicas: 4, drivesPerServer: 2, storage: { size: '10Gi' } });

  it('allows the first creation and changes that keep the erasure layout and drives', () => {
    assert.equal(unsafeMinioChange(undefined, current), undefined);
    assert.equal(unsafeMinioChange(current, current), undefined);
    assert.equal(unsafeMinioChange(current, sts({ replicas: 4, drivesPerServer: 2, autoEncryption: true, image: 'minio/minio:other' })), undefined);
    // The API server renders quantities canonically; 10240Mi is the same size.
    assert.equal(unsafeMinioChange(current, sts({ replicas: 4, drivesPerServer: 2, storage: { size: '10240Mi' } })), undefined);
  });

  it('refuses a change of the number of servers', () => {
    const refusal = unsafeMinioChange(current, sts({ replicas: 8, drivesPerServer: 2 }));
    assert.equal(refusal?.reason, 'UnsafeChangeRefused');
    assert.equal(refusal?.field, 'spec.minio.replicas');
    assert.match(refusal?.message ?? '', /^spec\.minio\.replicas: MinIO runs with 4 server\(s\) in this pool; changing to 8 .* Set it back to 4/);
  });

  it('refuses a change of drivesPerServer', () => {
    const refusal = unsafeMinioChange(current, sts({ replicas: 4, drivesPerServer: 4 }));
    assert.equal(refusal?.field, 'spec.minio.drivesPerServer');
    assert.match(refusal?.message ?? '', /2 drive\(s\) per server in this pool; changing to 4/);
  });

  it("names the added pool's own fields", () => {
    const fields = { servers: 'spec.minio.pools[0].servers', drivesPerServer: 'spec.minio.pools[0].drivesPerServer', size: 'spec.minio.pools[0].storage.size', storageClassName: 'spec.minio.pools[0].storage.storageClassName' };
    assert.match(unsafeMinioChange(current, sts({ replicas: 8, drivesPerServer: 2 }), fields)?.message ?? '', /^spec\.minio\.pools\[0\]\.servers: MinIO runs with 4 server\(s\) in this pool; .*add a server pool/);
    assert.match(unsafeMinioChange(current, sts({ replicas: 4, drivesPerServer: 2, storage: { size: '5Gi' } }), fields)?.message ?? '', /^spec\.minio\.pools\[0\]\.storage\.size: .*grow but never shrink/);
  });

  it('lets drives grow (claim by claim) but refuses smaller drives and new storage classes', () => {
    assert.equal(unsafeMinioChange(current, sts({ replicas: 4, drivesPerServer: 2, storage: { size: '20Gi' } })), undefined, 'growing is allowed');
    const smaller = unsafeMinioChange(current, sts({ replicas: 4, drivesPerServer: 2, storage: { size: '5Gi' } }));
    assert.equal(smaller?.field, 'spec.minio.storage.size');
    assert.match(smaller?.message ?? '', /can grow but never shrink; set it back to 10Gi or more/);
    const refusal = unsafeMinioChange(current, sts({ replicas: 4, drivesPerServer: 2, storage: { size: '10Gi', storageClassName: 'fast' } }));
    assert.equal(refusal?.field, 'spec.minio.storage.storageClassName');
    assert.match(refusal?.message ?? '', /\(unset: the cluster default\) .* to fast/);
  });
});
