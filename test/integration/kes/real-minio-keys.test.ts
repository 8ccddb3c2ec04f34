// MinIO's side of the master keys, with the real minio and kes programs on a real Vault: MinIO runs
// with the environment the operator renders for its StatefulSet, KES with the rendered config. Proves
// that rotating spec.minio.keyName keeps old objects readable, and that a MinIO restarted after its
// key was lost cannot mint a replacement. Skipped, with one line, when a program is missing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { keysStep } from '../../../src/controllers/kmsdeployment/steps/keys.ts';
import { buildMinioEnv, minioEnvNames } from '../../../src/minio/env.ts';
import { startKesOnVault, type KesOnVault } from '../../env/kes-on-vault.ts';
import { startMinioOnKes, type TestMinio } from '../../env/minio.ts';
import { missingProgram } from '../../env/programs.ts';
import { filesContaining, filesUnder } from '../../env/drive-files.ts';
import { World, putKesClientIdentities } from '../../unit/controllers/kmsdeployment/step-harness.ts';

const skip = [missingProgram('kes'), missingProgram('minio')].filter(Boolean).join('; ') || false;
const BUCKET = 'rotation';

describe('the real MinIO on the real KES', { skip }, () => {
  let env: KesOnVault;
  let minio: TestMinio;
  let s3: S3Client;
  const world = new World();
  const spec1 = () => env.specFor(['minio-key-1'], 'minio-key-1');
  const spec2 = () => env.specFor(['minio-key-1', 'minio-key-2'], 'minio-key-2');
  const keys = async (spec: ReturnType<KesOnVault['specFor']>) => {
    const context = world.context(spec);
    const result = await keysStep({ endpoint: () => env.kes.url }).run(context);
    for (const declared of context.children.all()) world.put('Secret', declared);
    return result;
  };
  const put = (key: string, body: Buffer, sse: 'AES256' | 'aws:kms') => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ServerSideEncryption: sse }));
  const get = async (key: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray());
  const head = (key: string) => s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));

  before(async () => {
    env = await startKesOnVault({ kvVersion: 'v2', keys: ['minio-key-1'], keyName: 'minio-key-1' });
    putKesClientIdentities(world, env);
    assert.equal((await keys(spec1())).status, 'True');
    ({ minio, s3 } = await startMinioOnKes(env, spec1()));
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });
  after(async () => {
    s3?.destroy();
    await minio?.stop();
    await env?.stop();
  });

  const before1 = Buffer.from(`written before the rotation ${'x'.repeat(64)}`);
  const before1Kms = Buffer.from(`SSE-KMS before the rotation ${'y'.repeat(64)}`);

  it('encrypts objects with the default key; the plaintext is not on the drive', async () => {
    await put('a-sse-s3', before1, 'AES256');
    await put('a-sse-kms', before1Kms, 'aws:kms');
    assert.equal((await head('a-sse-s3')).ServerSideEncryption, 'AES256');
    const kms = await head('a-sse-kms');
    assert.equal(kms.ServerSideEncryption, 'aws:kms');
    assert.match(kms.SSEKMSKeyId ?? '', /minio-key-1$/);
    assert.deepEqual(await get('a-sse-s3'), before1);
    assert.deepEqual(filesContaining(filesUnder(minio.dataDir), before1.subarray(0, 24)), []);
  });

  it('rotates the default key: the new key is created and verified first, MinIO rolls to it, old objects still read back', async () => {
    await env.rollKes(spec2()); // the KES policy now lets MinIO use minio-key-2
    assert.equal((await keys(spec2())).status, 'True', 'KeysReady before MinIO is rolled');
    assert.equal((await env.vault.request('GET', env.entryPath('minio-key-2'))).status, 200);
    const [old, rolled] = [buildMinioEnv(env.ref, spec1()), buildMinioEnv(env.ref, spec2())];
    const keyName = (vars: typeof old) => vars.find((e) => e.name === minioEnvNames.kesKeyName)?.value;
    assert.deepEqual([keyName(old), keyName(rolled)], ['minio-key-1', 'minio-key-2']);
    await minio.restart(rolled);

    const after = Buffer.from('written after the rotation');
    await put('b-sse-kms', after, 'aws:kms');
    assert.match((await head('b-sse-kms')).SSEKMSKeyId ?? '', /minio-key-2$/, 'new objects use the new default key');
    assert.match((await head('a-sse-kms')).SSEKMSKeyId ?? '', /minio-key-1$/);
    assert.deepEqual(await get('a-sse-s3'), before1, 'SSE-S3 object from before the rotation');
    assert.deepEqual(await get('a-sse-kms'), before1Kms, 'SSE-KMS object from before the rotation');
    assert.deepEqual(await get('b-sse-kms'), after);
  });

  it('a MinIO restarted after its default key was lost does not create a replacement', async () => {
    await env.vault.request('DELETE', env.entryPath('minio-key-2', 'metadata'));
    await env.rollKes(spec2()); // a fresh KES: nothing cached
    await minio.restart(buildMinioEnv(env.ref, spec2()), 'live');
    // MinIO tried (its start-up creates a missing default key), was refused, and runs without being ready.
    // Not ready: the readiness handler generates with the default key and answers KES's 404 as its own.
    assert.equal(await minio.health('ready'), 404);
    assert.equal((await env.vault.request('GET', env.entryPath('minio-key-2'))).status, 404, 'MinIO may not create keys');
    assert.equal((await keys(spec2())).reason, 'KeyMissing');
    assert.equal((await env.vault.request('GET', env.entryPath('minio-key-2'))).status, 404, 'nor does the operator');
  });
});
