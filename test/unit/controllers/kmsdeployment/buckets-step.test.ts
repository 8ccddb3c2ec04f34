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

const spec = (tls = false, certificateSecretRef?: { name: string }) =>
  vaultSpec({ extra: { minio: { keyName: 'minio-key-1', tls: { enabled: tls, ...(certificateSecretRef ? { certificateSecretRef } : {}) }, buckets: [{ name: 'logs' }] } } });
const secret = (name: string, data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'storage' }, data: encodeSecretData(data) });
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

/** A world holding MinIO's root credentials Secret, and the options of every bucket client the step opens. */
function withRootSecret(): { world: World; seen: BucketClientOptions[] } {
  const world = new World();
  world.put('Secret', root);
  return { world, seen: [] };
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

test('over https it trusts the CA bundle published in <name>-minio-ca first, else the ca.crt of the certificate MinIO serves', async () => {
  const { world, seen } = withRootSecret();
  const run = async (...args: Parameters<typeof spec>) => bucketsStep({ connect: recordingOps(seen) }).run(world.context(spec(...args)));

  const waiting = await run(true);
  assert.deepEqual([waiting.status, waiting.reason], ['False', 'WaitingForCertificates'], 'no CA of the operator\'s certificate yet: no connection without it');
  assert.match(waiting.message ?? '', /tenant-a-minio-ca.*tenant-a-minio-tls/);
  assert.equal(seen.length, 0);

  world.put('Secret', secret('tenant-a-minio-tls', { 'ca.crt': 'SECRET CA' }));
  assert.equal((await run(true)).status, 'True');
  assert.equal(seen.at(-1)?.caPem, 'SECRET CA');

  // The published bundle (current and previous CA during a rotation) wins over the Secret's ca.crt.
  world.put('ConfigMap', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tenant-a-minio-ca', namespace: 'storage' }, data: { 'ca.crt': 'NEW CA\nOLD CA' } });
  assert.equal((await run(true)).status, 'True');
  assert.equal(seen.at(-1)?.caPem, 'NEW CA\nOLD CA');
});

test("with the user's certificate: its validated Secret's ca.crt (from the pki step's handoff), or the system's roots when it has none", async () => {
  const { world, seen } = withRootSecret();
  const own = { name: 'minio-cert' };
  const step = bucketsStep({ connect: recordingOps(seen) });

  const withCA = await step.run(world.context(spec(true, own), { userCertificates: { 'minio-cert': secret('minio-cert', { 'tls.crt': 'C', 'tls.key': 'K', 'ca.crt': 'USER CA' }) } }));
  assert.equal(withCA.status, 'True', withCA.message);
  assert.equal(seen.at(-1)?.caPem, 'USER CA');

  const publicOne = await step.run(world.context(spec(true, own), { userCertificates: { 'minio-cert': secret('minio-cert', { 'tls.crt': 'C', 'tls.key': 'K' }) } }));
  assert.equal(publicOne.status, 'True', publicOne.message);
  assert.equal(seen.at(-1)?.endpoint, 'https://tenant-a-minio.storage.svc.cluster.local:9000');
  assert.equal(seen.at(-1)?.caPem, undefined);
});
