import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertGolden } from '../../support/golden.ts';
import { renderOperatorPolicy } from '../../../src/vault/operator-policy.ts';

test('the operator policy of docs/vault.md (golden)', () => {
  const text = renderOperatorPolicy({
    kvMounts: [{ mountPath: 'kv', version: 'v1', prefixRoot: 'kmsstack' }],
    appRoleMountPath: 'approle',
    allowMountCreation: true,
    allowKeyDeletion: true,
  });
  assertGolden('vault/operator-policy.hcl', text);
});

test('without mount creation and key deletion the operator only reads mounts and touches no keys', () => {
  const text = renderOperatorPolicy({
    kvMounts: [{ mountPath: 'kv2', version: 'v2', prefixRoot: 'tenants' }],
    appRoleMountPath: 'approle',
    allowMountCreation: false,
    allowKeyDeletion: false,
  });
  assert.match(text, /path "sys\/mounts\/kv2" \{\n {2}capabilities = \["read"\]/);
  assert.doesNotMatch(text, /kv2\/metadata/);
  assert.throws(() => renderOperatorPolicy({ kvMounts: [{ mountPath: 'kv', version: 'v1', prefixRoot: '*' }], appRoleMountPath: 'approle', allowMountCreation: false, allowKeyDeletion: true }), /kvMounts\.prefixRoot/);
});
