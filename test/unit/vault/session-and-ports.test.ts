import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planTokenAction, type CachedToken } from '../../../src/vault/session.ts';
import { kesRunsOnChecksum } from '../../../src/vault/ports.ts';
import { appRoleSecretDiffers, buildAppRoleSecret } from '../../../src/vault/approle-secret.ts';
import { KES_APPROLE_CHECKSUM_ANNOTATION } from '../../../src/vault/names.ts';

const t0 = new Date('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);
const token = (partial: Partial<CachedToken>): CachedToken => ({ token: 't', refreshedAt: t0, expiresAt: at(3600), renewable: true, source: 'src', ...partial });

test('a cached token is used until a third of its lifetime is left, then renewed or replaced', () => {
  assert.equal(planTokenAction(undefined, 'src', t0), 'login');
  assert.equal(planTokenAction(token({}), 'other-source', t0), 'login', 'a changed login configuration or token Secret');
  assert.equal(planTokenAction(token({}), 'src', at(2000)), 'use');
  assert.equal(planTokenAction(token({}), 'src', at(2500)), 'renew');
  assert.equal(planTokenAction(token({ renewable: false }), 'src', at(2500)), 'login');
  assert.equal(planTokenAction(token({}), 'src', at(3595)), 'login', 'too close to expiry to risk a renewal');
  assert.equal(planTokenAction(token({ expiresAt: undefined }), 'src', at(10 ** 6)), 'use', 'tokens without TTL');
});

function kesDeployment(checksum: string, status: Record<string, number>, generation = 2) {
  return {
    metadata: { name: 'x-kes', generation },
    spec: { replicas: 2, template: { metadata: { annotations: { [KES_APPROLE_CHECKSUM_ANNOTATION]: checksum } } } },
    status,
  };
}

test('KES runs on a checksum only once its rollout to that template finished', () => {
  const done = { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2, readyReplicas: 2 };
  assert.equal(kesRunsOnChecksum(undefined, 'c1'), true, 'no KES yet: nobody uses an old secret-id');
  assert.equal(kesRunsOnChecksum(kesDeployment('c1', done), 'c1'), true);
  assert.equal(kesRunsOnChecksum(kesDeployment('c0', done), 'c1'), false, 'template not updated yet');
  assert.equal(kesRunsOnChecksum(kesDeployment('c1', { ...done, observedGeneration: 1 }), 'c1'), false, 'controller has not seen it');
  assert.equal(kesRunsOnChecksum(kesDeployment('c1', { ...done, updatedReplicas: 1 }), 'c1'), false, 'half rolled');
  assert.equal(kesRunsOnChecksum(kesDeployment('c1', { ...done, replicas: 3 }), 'c1'), false, 'an old pod still runs');
  assert.equal(kesRunsOnChecksum(kesDeployment('c1', { ...done, unavailableReplicas: 1 }), 'c1'), false);
});

test('the AppRole Secret is rewritten only when data, owned annotations or labels differ', () => {
  const desired = buildAppRoleSecret({
    deployment: { namespace: 'ns', name: 'a' }, roleId: 'r', secretId: 's', accessor: 'acc', expiresAt: t0, previousAccessor: undefined,
    labels: { l: '1' }, ownerReferences: [],
  });
  const live = structuredClone(desired) as typeof desired & { metadata: { annotations: Record<string, string>; labels: Record<string, string> } };
  live.metadata.annotations['someone.else/note'] = 'kept';
  live.metadata.labels['extra'] = 'kept';
  assert.equal(appRoleSecretDiffers(live, desired), false);
  assert.equal(appRoleSecretDiffers(undefined, desired), true);
  assert.equal(appRoleSecretDiffers({ ...live, data: { ...live.data, 'secret-id': 'b3RoZXI=' } }, desired), true);
  assert.equal(appRoleSecretDiffers({ ...live, metadata: { ...live.metadata, annotations: { ...live.metadata.annotations, 'kmsstack.io/previous-secret-id-accessor': 'old' } } }, desired), true, 'a stale previous accessor is removed');
  assert.equal(appRoleSecretDiffers({ ...live, metadata: { ...live.metadata, labels: {} } }, desired), true);
});
