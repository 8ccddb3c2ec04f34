// One writer per fragment of status: the steps write certificates, vault, minio and buckets (one step each);
// status.kes is built once from what the PKI, KES and keys steps hand over (kesStatusOf).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { kesStatusOf, statusFragments } from '../../../../src/controllers/kmsdeployment/context.ts';
import { repoRoot } from '../../../env/process.ts';
import { owner } from './step-harness.ts';

const withStatus = (status: Record<string, unknown>) => ({ ...owner, status });
const workload = { endpoint: 'https://tenant-a-kes.storage.svc.cluster.local:7373', image: 'kes:1', readyReplicas: 1, minioIdentity: 'm2', operatorIdentity: 'o2' };
const records = [{ name: 'minio-key-1', createdAt: '2026-01-01T00:00:00.000Z' }];

describe('status fragments', () => {
  it('each fragment a step writes is written by one step, and none writes status.kes', () => {
    const dir = join(repoRoot, 'src/controllers/kmsdeployment/steps');
    const writers = new Map<string, string[]>();
    for (const file of readdirSync(dir)) {
      for (const match of readFileSync(join(dir, file), 'utf8').matchAll(/context\.status\['(\w+)'\]\s*=/g)) {
        writers.set(match[1] as string, [...(writers.get(match[1] as string) ?? []), file]);
      }
    }
    assert.deepEqual(Object.fromEntries(writers), { buckets: ['buckets.ts'], certificates: ['pki.ts'], minio: ['minio.ts'], vault: ['vault.ts'] });
  });

  it('status.kes: the PKI identities alone when the run stopped before KES', () => {
    assert.deepEqual(kesStatusOf({ object: withStatus({ kes: { keys: records } }), handoff: { kesIdentities: { minioIdentity: 'm', operatorIdentity: 'o' } } }), { minioIdentity: 'm', operatorIdentity: 'o' });
  });

  it('status.kes: how KES runs, its identities winning, and the recorded keys carried over when the keys step did not run', () => {
    const context = { object: withStatus({ kes: { keys: records } }), handoff: { kesIdentities: { minioIdentity: 'm', operatorIdentity: 'o' }, kesWorkload: workload } };
    assert.deepEqual(kesStatusOf(context), { ...workload, keys: records });
  });

  it('status.kes: the keys step\'s records replace those last written; no handoff, no fragment', () => {
    const fresh = [...records, { name: 'minio-key-2', createdAt: '2026-01-02T00:00:00.000Z' }];
    assert.deepEqual(kesStatusOf({ object: withStatus({ kes: { keys: records } }), handoff: { keyRecords: fresh } }), { keys: fresh });
    assert.deepEqual(statusFragments({ object: withStatus({ kes: { keys: records } }), handoff: {}, status: { minio: { readyReplicas: 1 } } }), { minio: { readyReplicas: 1 } });
  });

  it('a fragment whose writer was blocked keeps what it last said; one whose writer ran and wrote nothing goes', () => {
    const minio = { endpoint: 'https://tenant-a-minio.storage.svc.cluster.local:9000', caConfigMap: 'tenant-a-minio-ca', readyReplicas: 4 };
    const buckets = [{ name: 'logs', key: 'minio-key-1', state: 'Ready' }];
    const object = withStatus({ minio, buckets, kes: { ...workload, keys: records }, vault: { policy: 'p' } });
    const handoff = { kesIdentities: { minioIdentity: 'm', operatorIdentity: 'o' } };
    // KES is rolling: its step ran without handing over a workload; keys, MinIO, buckets were blocked.
    const blocked = new Set(['KeysReady', 'MinIOAvailable', 'EncryptionVerified', 'BucketsReady']);
    assert.deepEqual(statusFragments({ object, handoff, status: { vault: { policy: 'p2' } } }, blocked), { vault: { policy: 'p2' }, minio, buckets, kes: { minioIdentity: 'm', operatorIdentity: 'o' } });
    // Blocked before KES: status.kes keeps its workload and keys, with this run's PKI identities.
    const early = statusFragments({ object, handoff, status: {} }, new Set(['VaultConfigured', 'KESAvailable', 'KeysReady', 'MinIOAvailable', 'BucketsReady']));
    assert.deepEqual(early['kes'], { ...workload, keys: records, minioIdentity: 'm', operatorIdentity: 'o' });
    assert.deepEqual(early['vault'], { policy: 'p' });
    // Every step ran: only what they wrote.
    assert.deepEqual(statusFragments({ object, handoff: {}, status: { minio } }, new Set()), { minio });
  });
});
