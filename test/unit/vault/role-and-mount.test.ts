import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roleDifferences, desiredAppRoleRole } from '../../../src/vault/role.ts';
import { describeMount, planKvMount } from '../../../src/vault/kv-mount.ts';

const desired = desiredAppRoleRole({ policyName: 'kmsstack-ns-a', tokenTTLSeconds: 300, tokenMaxTTLSeconds: 3600, secretIDTTLSeconds: 86400 });

test('the role binds exactly the deployment policy, without the default policy', () => {
  assert.deepEqual(desired.token_policies, ['kmsstack-ns-a']);
  assert.equal(desired.token_no_default_policy, true);
  assert.equal(desired.bind_secret_id, true);
  assert.equal(desired.secret_id_ttl, 86400);
});

test('a role as Vault returns it (with extra fields) matches; any owned field change is reported', () => {
  const stored = { ...desired, policies: ['kmsstack-ns-a'], token_type: 'default', token_bound_cidrs: [], local_secret_ids: false, token_explicit_max_ttl: 0 };
  assert.deepEqual(roleDifferences(stored, desired), []);
  assert.deepEqual(roleDifferences({ ...stored, token_ttl: 60, token_policies: ['default', 'kmsstack-ns-a'] }, desired), ['token_policies', 'token_ttl']);
  assert.deepEqual(roleDifferences(undefined, desired).length, Object.keys(desired).length);
});

test('KV mount: create when asked, report missing, detect version and engine mismatches', () => {
  assert.deepEqual(planKvMount(undefined, { version: 'v2', create: false }), { action: 'missing' });
  assert.deepEqual(planKvMount(undefined, { version: 'v2', create: true }), {
    action: 'create', body: { type: 'kv', options: { version: '2' }, description: 'KES key store (kmsstack-operator)' },
  });
  assert.deepEqual(planKvMount({ type: 'kv', options: { version: '1' } }, { version: 'v1', create: true }), { action: 'none' });
  assert.deepEqual(planKvMount({ type: 'kv', options: null }, { version: 'v1', create: false }), { action: 'none' });
  assert.deepEqual(planKvMount({ type: 'generic' }, { version: 'v1', create: false }), { action: 'none' });
  assert.deepEqual(planKvMount({ type: 'kv', options: { version: '2' } }, { version: 'v1', create: true }), { action: 'mismatch', found: 'KV v2' });
  assert.deepEqual(planKvMount({ type: 'transit', options: {} }, { version: 'v1', create: true }), { action: 'mismatch', found: 'a "transit" secrets engine' });
  assert.deepEqual(describeMount({ type: 'kv', options: { version: 2 } }), { kvVersion: 'v2' });
});
