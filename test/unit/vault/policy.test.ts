import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertGolden } from '../../support/golden.ts';
import { kesPolicyRules, renderKesPolicy } from '../../../src/vault/policy.ts';

const deployment = { namespace: 'storage', name: 'tenant-a' };

const deletePolicies = [
  {
    title: 'KV v1 policy (keyDeletionPolicy Delete) grants create/read/delete/list under the prefix and renew-self, nothing else',
    input: { kvMountPath: 'kv', kvVersion: 'v1', prefix: 'minio/tenant-a', allowKeyDeletion: true },
    golden: 'vault/policy-kv-v1.hcl',
    rules: [{ path: 'kv/minio/tenant-a/*', capabilities: ['create', 'read', 'delete', 'list'] }],
  },
  {
    title: 'KV v2 policy (keyDeletionPolicy Delete) splits data (create/read) and metadata (delete/list) paths',
    input: { kvMountPath: 'secret', kvVersion: 'v2', prefix: 'kmsstack/storage/tenant-a', allowKeyDeletion: true },
    golden: 'vault/policy-kv-v2.hcl',
    rules: [
      { path: 'secret/data/kmsstack/storage/tenant-a/*', capabilities: ['create', 'read'] },
      { path: 'secret/metadata/kmsstack/storage/tenant-a/*', capabilities: ['delete', 'list'] },
    ],
  },
] as const;

for (const { title, input, golden, rules } of deletePolicies) {
  test(title, () => {
    assertGolden(golden, renderKesPolicy({ deployment, ...input }));
    assert.deepEqual(kesPolicyRules(input), [...rules, { path: 'auth/token/renew-self', capabilities: ['update'] }]);
  });
}

test('under keyDeletionPolicy Retain no rule grants delete (KV v1 and v2)', () => {
  assert.deepEqual(kesPolicyRules({ kvMountPath: 'kv', kvVersion: 'v1', prefix: 'a/b', allowKeyDeletion: false })[0], { path: 'kv/a/b/*', capabilities: ['create', 'read', 'list'] });
  assert.deepEqual(kesPolicyRules({ kvMountPath: 'kv', kvVersion: 'v2', prefix: 'a/b', allowKeyDeletion: false }).slice(0, 2), [
    { path: 'kv/data/a/b/*', capabilities: ['create', 'read'] },
    { path: 'kv/metadata/a/b/*', capabilities: ['list'] },
  ]);
  const text = renderKesPolicy({ deployment, kvMountPath: 'kv', kvVersion: 'v2', prefix: 'a/b', allowKeyDeletion: false });
  assert.doesNotMatch(text, /"delete"/);
});

test('no rule reaches outside the prefix and none grants update or sudo', () => {
  for (const kvVersion of ['v1', 'v2'] as const) {
    for (const rule of kesPolicyRules({ kvMountPath: 'kv', kvVersion, prefix: 'a/b', allowKeyDeletion: true })) {
      if (rule.path === 'auth/token/renew-self') continue;
      assert.match(rule.path, /^kv\/(?:data\/|metadata\/)?a\/b\/\*$/);
      assert.ok(!rule.capabilities.includes('update') && !rule.capabilities.includes('sudo'));
    }
  }
});

test('leading and trailing slashes are normalized; the output is stable', () => {
  const a = renderKesPolicy({ deployment, kvMountPath: '/kv/', kvVersion: 'v1', prefix: '/minio/tenant-a/', allowKeyDeletion: false });
  const b = renderKesPolicy({ deployment, kvMountPath: 'kv', kvVersion: 'v1', prefix: 'minio/tenant-a', allowKeyDeletion: false });
  assert.equal(a, b);
});

test('glob characters, quotes and dot segments in mount or prefix are rejected with the field path', () => {
  const bad: [string, string, RegExp][] = [
    ['kv', 'minio/*', /spec\.vault\.kv\.prefix/],
    ['kv', 'minio/+/x', /spec\.vault\.kv\.prefix/],
    ['kv', 'a/../b', /spec\.vault\.kv\.prefix.*"\.\."/],
    ['kv', '', /spec\.vault\.kv\.prefix: must not be empty/],
    ['k"v', 'a', /spec\.vault\.kv\.mountPath/],
    ['kv', 'a b', /spec\.vault\.kv\.prefix/],
  ];
  for (const [kvMountPath, prefix, message] of bad) {
    assert.throws(() => renderKesPolicy({ deployment, kvMountPath, kvVersion: 'v1', prefix, allowKeyDeletion: false }), message, `${kvMountPath} ${prefix}`);
  }
});
