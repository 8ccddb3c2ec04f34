import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertGolden } from '../../support/golden.ts';
import { renderOperatorPolicy } from '../../../src/vault/operator-policy.ts';
import { operatorPolicyInput } from '../../support/stack.ts';

test('the operator policy of docs/vault.md (golden)', () => {
  const text = renderOperatorPolicy(operatorPolicyInput({ legacyNames: true }));
  assertGolden('vault/operator-policy.hcl', text);
});

test('without mount creation the operator only reads mounts, and it never touches keys', () => {
  const restricted = operatorPolicyInput({ kvMounts: [{ mountPath: 'kv2', version: 'v2' }], allowMountCreation: false, instance: 'staging' });
  const text = renderOperatorPolicy(restricted);
  assert.match(text, /path "sys\/mounts\/kv2" \{\n {2}capabilities = \["read"\]/);
  assert.doesNotMatch(text, /kv2\//, 'no capability on any KV entry: keys are deleted with the deployment\'s own AppRole login');
  assert.doesNotMatch(text, /"(?:list|delete)"[^\n]*\n\}[^#]*kv/);
  assert.throws(() => renderOperatorPolicy(operatorPolicyInput({ kvMounts: [{ mountPath: 'kv/*', version: 'v1' }], allowMountCreation: false })), /kvMounts\.mountPath/);
});

test('with KES on Kubernetes auth: read (sudo) of the auth mount and the per-deployment roles of this instance there, nothing on the mount\'s config', () => {
  const text = renderOperatorPolicy({
    kvMounts: [{ mountPath: 'kv', version: 'v1' }], appRoleMountPath: 'approle', allowMountCreation: false, instance: 'default', legacyNames: false,
    kesKubernetesMounts: ['kubernetes'],
  });
  assert.match(text, /path "sys\/auth\/kubernetes" \{\n {2}capabilities = \["read", "sudo"\]/);
  assert.match(text, /path "auth\/kubernetes\/role\/kmsstack_default_\*" \{\n {2}capabilities = \["create", "read", "update", "delete"\]/);
  assert.doesNotMatch(text, /auth\/kubernetes\/config/, 'the auth method\'s config (API server, reviewer) stays the admin\'s');
  assert.throws(() => renderOperatorPolicy({ kvMounts: [], appRoleMountPath: 'approle', allowMountCreation: false, instance: 'default', legacyNames: false, kesKubernetesMounts: ['k8s/*'] }), /kesKubernetesMounts/);
});
