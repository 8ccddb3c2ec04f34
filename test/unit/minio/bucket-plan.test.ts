import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeActions, desiredBuckets, planBucket, type DesiredBucket } from '../../../src/minio/bucket-plan.ts';
import type { ObservedBucket } from '../../../src/minio/bucket-client.ts';
import { keysInUse } from '../../../src/workload/keys-in-use.ts';
import { vaultSpec } from '../kes/fixtures.ts';

const missing: ObservedBucket = { exists: false, kmsKey: undefined, algorithm: undefined, versioning: undefined, objectLock: undefined };
const bucket = (extra: Partial<DesiredBucket> = {}): DesiredBucket => ({ name: 'invoices', key: 'bucket-key', versioning: false, objectLock: false, ...extra });

test('a bucket\'s key defaults to spec.minio.keyName; the keys in use are the default and the buckets\' keys, each once', () => {
  const spec = vaultSpec({ extra: { kes: { keys: [{ name: 'minio-key-1' }, { name: 'bucket-key' }, { name: 'spare' }] }, minio: { keyName: 'minio-key-1', buckets: [{ name: 'invoices', key: 'bucket-key', versioning: true }, { name: 'logs' }, { name: 'more', key: 'bucket-key' }] } } });
  assert.deepEqual(desiredBuckets(spec), [
    { name: 'invoices', key: 'bucket-key', versioning: true, objectLock: false },
    { name: 'logs', key: 'minio-key-1', versioning: false, objectLock: false },
    { name: 'more', key: 'bucket-key', versioning: false, objectLock: false },
  ]);
  assert.deepEqual(keysInUse(spec), ['minio-key-1', 'bucket-key'], 'spare is listed but encrypts nothing new');
  assert.deepEqual(keysInUse(vaultSpec()), ['minio-key-1']);
});

test('a missing bucket is created, versioned (unless object lock already does it) and gets its default encryption', () => {
  assert.deepEqual(planBucket(bucket(), missing), { actions: ['create', 'setEncryption'], problem: undefined });
  assert.deepEqual(planBucket(bucket({ versioning: true }), missing).actions, ['create', 'enableVersioning', 'setEncryption']);
  assert.deepEqual(planBucket(bucket({ versioning: true, objectLock: true }), missing).actions, ['create', 'setEncryption']);
});

test('an existing bucket: only what differs is written; versioning is never suspended, object lock never faked', () => {
  const ready: ObservedBucket = { exists: true, kmsKey: 'bucket-key', algorithm: 'aws:kms', versioning: 'Enabled', objectLock: undefined };
  assert.deepEqual(planBucket(bucket({ versioning: true }), ready), { actions: [], problem: undefined }, 'steady state: no write');
  assert.deepEqual(planBucket(bucket(), ready).actions, [], 'versioning false leaves a versioned bucket as it is');
  assert.deepEqual(planBucket(bucket(), { ...ready, kmsKey: 'other' }).actions, ['setEncryption']);
  assert.deepEqual(planBucket(bucket(), { ...ready, algorithm: 'AES256', kmsKey: undefined }).actions, ['setEncryption']);
  assert.deepEqual(planBucket(bucket({ versioning: true }), { ...ready, versioning: 'Suspended' }).actions, ['enableVersioning']);
  const lockless = planBucket(bucket({ objectLock: true }), { ...ready, objectLock: false });
  assert.deepEqual(lockless.actions, []);
  assert.match(lockless.problem ?? '', /exists without object lock, which S3 can only enable when a bucket is created/);
  // Nothing in a plan ever removes anything.
  for (const action of [...lockless.actions, ...planBucket(bucket({ versioning: true }), missing).actions]) assert.match(action, /^(create|enableVersioning|setEncryption)$/);
});

test('messages say what was done', () => {
  assert.equal(describeActions('invoices', 'bucket-key', ['create', 'setEncryption']), 'created, set the default encryption to SSE-KMS with key bucket-key (bucket invoices)');
  assert.equal(describeActions('invoices', 'bucket-key', []), 'default encryption SSE-KMS with key bucket-key');
});
