// The buckets step's wiring on in-memory objects: where it connects (endpoint, CA), with which
// credentials, and what it reports without buckets or credentials. Its S3 behaviour is tested against
// the real MinIO in test/integration/minio/buckets.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketsStep } from '../../../../src/controllers/kmsdeployment/steps/buckets.ts';
import type { BucketClientOptions, BucketOps } from '../../../../src/minio/bucket-client.ts';
import { encodeSecretData } from '../../../../src/runtime/kube/secret-data.ts';
import { vaultSpec } from '../../kes/fixtures.ts';
import { World } from './step-harness.ts';

const spec = (tls = false) => vaultSpec({ extra: { minio: { keyName: 'minio-key-1', tls: { enabled: tls }, buckets: [{ name: 'logs' }] } } });
const root = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tenant-a-minio-root', namespace: 'storage' }, data: encodeSecretData({ rootUser: 'admin', rootPassword: 'secret-password' }) };

function recordingOps(seen: BucketClientOptions[]) {
  return async (options: BucketClientOptions): Promise<BucketOps> => {
    seen.push(options);
    return {
      inspect: async () => ({ exists: true, kmsKey: 'minio-key-1', algorithm: 'aws:kms', versioning: undefined, objectLock: undefined }),
      create: async () => assert.fail('nothing to create'),
      enableVersioning: async () => assert.fail('no versioning asked'),
      setDefaultKmsEncryption: async () => assert.fail('already encrypted'),
      close: () => {},
    };
  };
}

test('without buckets the step is True (NotUsed) and opens no S3 client', async () => {
  const seen: BucketClientOptions[] = [];
  const result = await bucketsStep({ connect: recordingOps(seen) }).run(new World().context(vaultSpec()));
  assert.deepEqual([result.status, result.reason], ['True', 'NotUsed']);
  assert.equal(seen.length, 0);
});

test('connects to the MinIO Service with the root credentials, over https with the CA of MinIO\'s certificate when TLS is on', async () => {
  const world = new World();
  const waiting = await bucketsStep({ connect: recordingOps([]) }).run(world.context(spec()));
  assert.deepEqual([waiting.status, waiting.reason], ['False', 'RootCredentialsMissing']);
  world.put('Secret', root);
  const seen: BucketClientOptions[] = [];
  const plain = await bucketsStep({ connect: recordingOps(seen) }).run(world.context(spec()));
  assert.equal(plain.status, 'True', plain.message);
  assert.deepEqual(seen[0], { endpoint: 'http://tenant-a-minio.storage.svc.cluster.local:9000', accessKeyId: 'admin', secretAccessKey: 'secret-password' });
  world.put('Secret', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tenant-a-minio-tls', namespace: 'storage' }, data: encodeSecretData({ 'ca.crt': 'CA PEM' }) });
  await bucketsStep({ connect: recordingOps(seen) }).run(world.context(spec(true)));
  assert.equal(seen[1]?.endpoint, 'https://tenant-a-minio.storage.svc.cluster.local:9000');
  assert.equal(seen[1]?.caPem, 'CA PEM');
  assert.ok(!JSON.stringify(world.events).includes('secret-password'));
});
