// Which keys KES keeps granting MinIO generate with while a default-key or bucket-key change rolls out:
// the old key stays until the StatefulSet template names the new one and no pod of the old template is
// left, or until the bucket is found switched; a hand-edited config cannot widen the policy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildKesConfig, generateKeysOf, renderKesConfig } from '../../../../src/kes/config.ts';
import { keysStillInUse } from '../../../../src/controllers/kmsdeployment/steps/kes-keys-in-flight.ts';
import { vaultSpec } from '../../kes/fixtures.ts';
import { World, opaqueSecret, owner } from './step-harness.ts';
import type { KubeObject } from '../../../../src/runtime/kube/resources.ts';

const identities = { minio: 'a'.repeat(64), operator: 'b'.repeat(64) };
const ref = { name: 'tenant-a', namespace: 'storage' };
const rotated = vaultSpec({ extra: { minio: { keyName: 'minio-key-2' } } });

function statefulSet(key: string, rolledOut: boolean): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet',
    metadata: { name: 'tenant-a-minio', namespace: 'storage', generation: 2 },
    spec: { replicas: 2, template: { metadata: { annotations: { 'kmsstack.io/config-checksum': 'c2' } }, spec: { containers: [{ name: 'minio', env: [{ name: 'MINIO_KMS_KES_KEY_NAME', value: key }] }] } } },
    status: rolledOut
      ? { observedGeneration: 2, replicas: 2, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 2, currentRevision: 'r2', updateRevision: 'r2' }
      : { observedGeneration: 2, replicas: 2, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 1, currentRevision: 'r1', updateRevision: 'r2' },
  } as unknown as KubeObject;
}

function liveConfig(world: World, spec = vaultSpec()): void {
  world.put('Secret', opaqueSecret('tenant-a-kes-config', { 'config.yaml': renderKesConfig({ deployment: ref, spec, identities }) }));
}

const generate = (keys: string[]) => buildKesConfig({ deployment: ref, spec: rotated, identities, keysStillInUse: keys }).policy.minio.allow.filter((p) => p.startsWith('/v1/key/generate/'));

test('a rendered config names the keys MinIO may generate with; anything else names none', () => {
  assert.deepEqual(generateKeysOf(renderKesConfig({ deployment: ref, spec: vaultSpec(), identities })), ['minio-key-1']);
  for (const text of [undefined, '', 'not: [yaml', 'policy: 3', '- a\n- b', 'policy:\n  minio:\n    allow: /v1/key/generate/x']) assert.deepEqual(generateKeysOf(text), [], String(text));
});

test('the default key changes: the old key is granted while the template names it, and while its pods are replaced', () => {
  const world = new World();
  liveConfig(world);
  world.put('StatefulSet', statefulSet('minio-key-1', true));
  assert.deepEqual(keysStillInUse(world.context(rotated)), ['minio-key-1'], 'the template still names the old key');
  world.put('StatefulSet', statefulSet('minio-key-2', false));
  assert.deepEqual(keysStillInUse(world.context(rotated)), ['minio-key-2', 'minio-key-1'], 'pods of the old template may still run');
  world.put('StatefulSet', statefulSet('minio-key-2', true));
  assert.deepEqual(keysStillInUse(world.context(rotated)), ['minio-key-2'], 'rolled out: only the new key');
  assert.deepEqual(generate(keysStillInUse(world.context(rotated))), ['/v1/key/generate/minio-key-2']);
});

test('a bucket keeps its last found key until it is switched', () => {
  const world = new World();
  const context = { ...world.context(rotated), object: { ...owner, status: { buckets: [{ name: 'logs', key: 'minio-key-1', state: 'Ready' as const }] } } };
  assert.deepEqual(keysStillInUse(context), ['minio-key-1']);
});

test('only keys of spec.kes.keys are ever granted, whatever the live config or status name', () => {
  const world = new World();
  world.put('Secret', opaqueSecret('tenant-a-kes-config', { 'config.yaml': 'policy:\n  minio:\n    allow:\n      - /v1/key/generate/someone-elses-key\n' }));
  world.put('StatefulSet', statefulSet('minio-key-2', false));
  const kept = keysStillInUse(world.context(rotated));
  assert.deepEqual(kept, ['minio-key-2', 'someone-elses-key']);
  assert.deepEqual(generate(kept), ['/v1/key/generate/minio-key-2']);
});
