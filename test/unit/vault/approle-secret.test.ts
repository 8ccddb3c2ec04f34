import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertGolden } from '../../support/golden.ts';
import type { KubeObject } from '../../../src/runtime/kube/resources.ts';
import { isSemanticSubset } from '../../../src/runtime/subset.ts';
import { appRoleChecksum, buildAppRoleSecret, readAppRoleSecret } from '../../../src/vault/approle-secret.ts';

const input = {
  deployment: { namespace: 'storage', name: 'tenant-a' },
  roleId: '11111111-2222-3333-4444-555555555555',
  secretId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  accessor: 'ffffffff-0000-1111-2222-333333333333',
  expiresAt: new Date('2026-01-17T00:00:00Z'),
  previousAccessor: '99999999-8888-7777-6666-555555555555',
  labels: { 'app.kubernetes.io/name': 'kes', 'app.kubernetes.io/instance': 'tenant-a', 'app.kubernetes.io/managed-by': 'kmsstack-operator' },
  ownerReferences: [{ apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment', name: 'tenant-a', uid: 'uid-1', controller: true, blockOwnerDeletion: true }],
};

test('the Secret holds role-id and secret-id in data, metadata in annotations', () => {
  const secret = buildAppRoleSecret(input);
  assertGolden('vault/approle-secret.yaml', secret);
  const annotationText = JSON.stringify(secret.metadata);
  assert.ok(!annotationText.includes(input.secretId), 'the secret-id must not be in metadata');
});

test('reading the Secret back gives the stored credentials and the same checksum', () => {
  const read = readAppRoleSecret(buildAppRoleSecret(input));
  assert.deepEqual(read?.stored, {
    roleId: input.roleId, hasSecretId: true, accessor: input.accessor, expiresAt: input.expiresAt, previousAccessor: input.previousAccessor,
  });
  assert.equal(read?.secretId, input.secretId);
  assert.equal(read?.checksum, appRoleChecksum(input.roleId, input.secretId));
  assert.notEqual(appRoleChecksum(input.roleId, 'other'), read?.checksum);
  assert.equal(readAppRoleSecret(undefined), undefined);
});

test('a Secret without annotations or secret-id reads as incomplete', () => {
  const read = readAppRoleSecret({ data: { 'role-id': Buffer.from('r').toString('base64') } });
  assert.deepEqual(read?.stored, { roleId: 'r', hasSecretId: false, accessor: undefined, expiresAt: undefined, previousAccessor: undefined });
  assert.equal(read?.checksum, undefined);
});

test('a secret-id edited by hand (data no longer matches the recorded checksum) reads as missing', () => {
  const secret = buildAppRoleSecret(input);
  const edited = { ...secret, data: { ...secret.data, 'secret-id': Buffer.from('00000000-0000-0000-0000-000000000000').toString('base64') } };
  const read = readAppRoleSecret(edited);
  assert.equal(read?.stored.hasSecretId, false, 'an untrusted secret-id must lead to a new one');
  assert.equal(read?.secretId, undefined);
  assert.equal(read?.checksum, undefined);
  assert.equal(read?.stored.accessor, input.accessor, 'the recorded accessor is kept so the old secret-id can be destroyed');
});

test('once the rotation is over the previous accessor is cleared in a way the reconcile writes', () => {
  // The reconcile applies a child only when a field it sets differs from the live object (the subset rule):
  // leaving the annotation out would never remove it from the live Secret (seen in the e2e rotation test).
  const during = buildAppRoleSecret(input);
  const after = buildAppRoleSecret({ ...input, previousAccessor: undefined });
  assert.equal(after.metadata.annotations?.['kmsstack.io/previous-secret-id-accessor'], '');
  assert.equal(isSemanticSubset(after as unknown as KubeObject, during as unknown as KubeObject), false, 'the live Secret still naming the previous accessor is updated');
  assert.equal(readAppRoleSecret(after)?.stored.previousAccessor, undefined, 'an empty annotation reads as no previous secret-id');
});
