// The buckets step (BucketsReady) against the real MinIO on the real KES and Vault: buckets are
// created with their default encryption, versioning and object lock, read back through the S3 API;
// an object written without encryption headers into a bucket with its own key is encrypted with
// that key; MinIO's KES policy refuses a listed key no bucket uses; a steady state writes nothing;
// drift is put back; nothing is ever deleted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  GetBucketEncryptionCommand, GetBucketVersioningCommand, GetObjectCommand, GetObjectLockConfigurationCommand, HeadBucketCommand, HeadObjectCommand,
  PutBucketEncryptionCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import type { DefaultedKMSDeploymentSpec } from '../../../src/api/index.ts';
import { bucketsStep } from '../../../src/controllers/kmsdeployment/steps/buckets.ts';
import { keysStep } from '../../../src/controllers/kmsdeployment/steps/keys.ts';
import { connectBuckets } from '../../../src/minio/bucket-client.ts';
import { encodeSecretData } from '../../../src/runtime/kube/secret-data.ts';
import { startKesOnVault, type KesOnVault } from '../../env/kes-on-vault.ts';
import { startMinioOnKes, type TestMinio } from '../../env/minio.ts';
import { missingProgram } from '../../env/programs.ts';
import { World, putKesClientIdentities } from '../../unit/controllers/kmsdeployment/step-harness.ts';

const skip = [missingProgram('kes'), missingProgram('minio')].filter(Boolean).join('; ') || false;

describe('declarative buckets on the real MinIO, KES and Vault', { skip }, () => {
  let env: KesOnVault;
  let minio: TestMinio;
  let s3: S3Client;
  const world = new World();
  const KEYS = ['minio-key-1', 'bucket-key', 'spare-key'];

  function specWith(buckets: { name: string; key?: string; versioning?: boolean; objectLock?: boolean }[]): DefaultedKMSDeploymentSpec {
    const spec = env.specFor(KEYS, 'minio-key-1');
    // The MinIO on loopback serves plain HTTP; which CA the step trusts over https is buckets-step.test.ts's.
    spec.minio.tls = { ...spec.minio.tls, enabled: false };
    spec.minio.buckets = buckets.map((b) => ({ versioning: false, objectLock: false, ...b }));
    return spec;
  }
  const spec = () =>
    specWith([
      { name: 'invoices', key: 'bucket-key', versioning: true },
      { name: 'logs' },
      { name: 'legal-hold', objectLock: true },
    ]);
  const step = () => bucketsStep({ endpoint: () => minio.url });
  async function run(s: DefaultedKMSDeploymentSpec) {
    const context = world.context(s);
    const eventsBefore = world.events.length;
    const result = await step().run(context);
    return { result, status: context.status['buckets'] as { name: string; key?: string; state: string; message: string }[], events: world.events.slice(eventsBefore) };
  }

  before(async () => {
    env = await startKesOnVault({ kvVersion: 'v1', keys: KEYS, keyName: 'minio-key-1' });
    // KES runs the config the operator renders for this spec: MinIO may generate with minio-key-1 and bucket-key only.
    await env.rollKes(spec());
    putKesClientIdentities(world, env);
    const keysContext = world.context(spec());
    assert.equal((await keysStep({ endpoint: () => env.kes.url }).run(keysContext)).status, 'True');
    ({ minio, s3 } = await startMinioOnKes(env, spec()));
    // The generated root credentials Secret, as the MinIO step declares it.
    world.put('Secret', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tenant-a-minio-root', namespace: 'storage' }, data: encodeSecretData({ rootUser: minio.rootUser, rootPassword: minio.rootPassword }) });
  });
  after(async () => {
    s3?.destroy();
    await minio?.stop();
    await env?.stop();
  });

  it('creates the buckets with their default encryption, versioning and object lock, read back through the S3 API', async () => {
    const { result, status, events } = await run(spec());
    assert.equal(result.status, 'True', result.message);
    assert.equal(result.reason, 'BucketsReady');
    assert.deepEqual(status.map((s) => [s.name, s.key, s.state]), [['invoices', 'bucket-key', 'Ready'], ['logs', 'minio-key-1', 'Ready'], ['legal-hold', 'minio-key-1', 'Ready']]);
    assert.equal(events.length, 3);
    const encryption = async (bucket: string) => (await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }))).ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
    assert.equal((await encryption('invoices'))?.SSEAlgorithm, 'aws:kms');
    assert.match((await encryption('invoices'))?.KMSMasterKeyID ?? '', /(^|:)bucket-key$/);
    assert.match((await encryption('logs'))?.KMSMasterKeyID ?? '', /(^|:)minio-key-1$/);
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'invoices' }))).Status, 'Enabled');
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'logs' }))).Status, undefined);
    assert.equal((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'legal-hold' }))).ObjectLockConfiguration?.ObjectLockEnabled, 'Enabled');
  });

  it('an object written without encryption headers is encrypted with its bucket\'s key, and reads back', async () => {
    const body = Buffer.from(`invoice ${'z'.repeat(64)}`);
    await s3.send(new PutObjectCommand({ Bucket: 'invoices', Key: 'a', Body: body }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'invoices', Key: 'a' }));
    assert.equal(head.ServerSideEncryption, 'aws:kms');
    assert.match(head.SSEKMSKeyId ?? '', /(^|:)bucket-key$/, 'MinIO names the bucket key in the object metadata');
    assert.deepEqual(Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: 'invoices', Key: 'a' }))).Body!.transformToByteArray()), body);
    await s3.send(new PutObjectCommand({ Bucket: 'logs', Key: 'b', Body: 'log line' }));
    assert.match((await s3.send(new HeadObjectCommand({ Bucket: 'logs', Key: 'b' }))).SSEKMSKeyId ?? '', /(^|:)minio-key-1$/);
  });

  it('MinIO\'s KES policy refuses a listed key that neither a bucket nor the default uses', async () => {
    // The control: a key in use may be asked for explicitly.
    await s3.send(new PutObjectCommand({ Bucket: 'logs', Key: 'c', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'bucket-key' }));
    await assert.rejects(
      s3.send(new PutObjectCommand({ Bucket: 'logs', Key: 'c', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'spare-key' })),
      (err: Error & { $metadata?: { httpStatusCode?: number } }) => (err.$metadata?.httpStatusCode ?? 0) >= 400,
    );
  });

  it('a steady state writes nothing; drift is put back; a bucket that cannot get object lock is reported; nothing is deleted', async () => {
    const steady = await run(spec());
    assert.equal(steady.result.status, 'True');
    assert.deepEqual(steady.events, [], 'no write, no event');

    await s3.send(new PutBucketEncryptionCommand({ Bucket: 'logs', ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } }));
    const repaired = await run(spec());
    assert.equal(repaired.result.status, 'True');
    assert.deepEqual(repaired.events.map((e) => e.note), ['set the default encryption to SSE-KMS with key minio-key-1 (bucket logs)']);

    const lockLater = await run(specWith([{ name: 'logs', objectLock: true }]));
    assert.equal(lockLater.result.status, 'False');
    assert.equal(lockLater.result.reason, 'BucketsFailed');
    assert.match(lockLater.result.message, /bucket logs exists without object lock/);
    assert.equal(lockLater.result.requeueAfterMs, undefined, 'waits for a spec change');

    // The entries are gone from the spec: the buckets and their objects stay.
    assert.equal((await run(specWith([]))).result.reason, 'NotUsed');
    await s3.send(new HeadBucketCommand({ Bucket: 'invoices' }));
    await s3.send(new HeadObjectCommand({ Bucket: 'invoices', Key: 'a' }));
  });

  it('an unreachable MinIO or wrong credentials fail the condition naming the bucket, with a retry', async () => {
    const context = world.context(spec());
    const down = await bucketsStep({ endpoint: () => 'http://127.0.0.1:1' }).run(context);
    assert.equal(down.reason, 'BucketsFailed');
    assert.match(down.message, /check of bucket invoices: /);
    assert.equal(down.requeueAfterMs, 30_000);
    const ops = await connectBuckets({ endpoint: minio.url, accessKeyId: minio.rootUser, secretAccessKey: 'not-the-password' });
    try {
      await assert.rejects(ops.inspect('invoices', false), (err: Error) => /check of bucket invoices/.test(err.message) && !err.message.includes('not-the-password'));
    } finally {
      ops.close();
    }
  });
});
