import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1StatefulSet } from '@kubernetes/client-node';
import { applyDefaults, type DefaultedKMSDeploymentSpec } from '../../../src/api/index.ts';
import { bootstrapConfigOf, minioReadiness, readinessOf } from '../../../src/minio/readiness.ts';
import { buildMinioStatefulSet, type MinioReadiness } from '../../../src/minio/statefulset.ts';
import { ref, vaultSpec } from '../kes/fixtures.ts';

const spec = (minio: Record<string, unknown> = {}): DefaultedKMSDeploymentSpec =>
  applyDefaults({ ...vaultSpec(), minio: { keyName: 'minio-key-1', replicas: 4, drivesPerServer: 2, ...minio } });
const build = (s: DefaultedKMSDeploymentSpec, readiness?: MinioReadiness, configChecksum = 'a'.repeat(64)) =>
  buildMinioStatefulSet({ deployment: ref, spec: s, configChecksum, ...(readiness ? { readiness } : {}) });

/** A copy of `sts` with its pod spec changed by `change`. */
function withEnv(sts: V1StatefulSet, change: (pod: NonNullable<V1StatefulSet['spec']>['template']['spec']) => void): V1StatefulSet {
  const copy = structuredClone(sts);
  change(copy.spec!.template.spec);
  return copy;
}

describe('MinIO readiness probe', () => {
  it('asks for the write quorum by default, and says which check a live StatefulSet runs', () => {
    const sts = build(spec());
    assert.equal(sts.spec?.template.spec?.containers[0]?.readinessProbe?.httpGet?.path, '/minio/health/cluster');
    assert.equal(readinessOf(sts), 'cluster');
    assert.equal(readinessOf(build(spec(), 'ready')), 'ready');
    assert.equal(readinessOf(undefined), undefined);
  });

  it('keeps the write-quorum check on creation, for one server, and for changes MinIO does not compare', () => {
    const desired = build(spec());
    assert.equal(minioReadiness(desired, undefined, false, true), 'cluster', 'nothing live yet');
    const newKey = build(spec({ keyName: 'minio-key-2' }));
    assert.equal(minioReadiness(newKey, desired, true, false), 'cluster', 'one server has no peer to agree with');
    assert.equal(minioReadiness(build(spec(), undefined, 'b'.repeat(64)), desired, true, true), 'cluster',
      'new certificates or credentials (the config checksum) are not part of the environment');
    const defaulted = withEnv(desired, (pod) => {
      pod!.containers[0]!.env = [...(pod!.containers[0]!.env ?? []),
        { name: 'MINIO_POD', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } }];
    });
    const asDeclared = withEnv(desired, (pod) => {
      pod!.containers[0]!.env = [...(pod!.containers[0]!.env ?? []),
        { name: 'MINIO_POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }];
    });
    assert.equal(bootstrapConfigOf(defaulted), bootstrapConfigOf(asDeclared), "the API server's defaults are no change");
  });

  it('runs a change of the environment with /ready, then returns to /cluster once it is rolled out', () => {
    const live = build(spec());
    const newKey = build(spec({ keyName: 'minio-key-2' }));
    assert.notEqual(bootstrapConfigOf(newKey), bootstrapConfigOf(live));
    assert.equal(minioReadiness(newKey, live, true, true), 'ready', 'a new default key: the servers must agree on it');
    const autoEncryption = build(spec({ autoEncryption: !spec().minio.autoEncryption }));
    assert.equal(minioReadiness(autoEncryption, live, true, true), 'ready');
    const morePools = build(spec({ pools: [{ name: 'p2', servers: 4 }] }));
    assert.notDeepEqual(morePools.spec?.template.spec?.containers[0]?.args, live.spec?.template.spec?.containers[0]?.args);
    assert.equal(minioReadiness(morePools, live, true, true), 'cluster',
      'a new command line (server pools) restarts all servers together: no rolling update to let through');

    const rolling = build(spec({ keyName: 'minio-key-2' }), 'ready');
    assert.equal(minioReadiness(newKey, rolling, false, true), 'ready', 'the rollout with /ready is not over');
    assert.equal(minioReadiness(newKey, rolling, true, true), 'cluster', 'over: back to the write quorum');
  });
});
