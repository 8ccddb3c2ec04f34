import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodePathSegments, quoteUntrusted, vaultPath } from '../../../src/vault/paths.ts';
import { kvKeyPaths } from '../../../src/vault/operations.ts';

test('plain Vault names pass unchanged; interpolated values are encoded segment by segment', () => {
  assert.equal(vaultPath`auth/${'approle'}/role/${'kmsstack-a-b'}/secret-id`, 'auth/approle/role/kmsstack-a-b/secret-id');
  assert.equal(vaultPath`sys/mounts/${'team/kv_2.x'}`, 'sys/mounts/team/kv_2.x');
  // What a name must not do once in a path: carry "/" (encoded or as node-vault's &#x2F;), "?", "#", "\" or "%".
  assert.equal(encodePathSegments('%2e%2e&#x2F;x'), '%252e%252e%26%23x2F%3Bx');
  assert.equal(encodePathSegments('a?list=true#b\\c'), 'a%3Flist%3Dtrue%23b%5Cc');
});

test('empty, "." and ".." segments are refused instead of sent', () => {
  for (const bad of ['', 'a//b', '.', 'a/../b', '..', 'a/']) assert.throws(() => encodePathSegments(bad), /empty, "\." or "\.\." segment; refusing to send it/, bad);
});

test('key paths take only names KES could have made, as one encoded segment', () => {
  const v1 = kvKeyPaths('kv', 'v1', 'kmsstack/team-a/store');
  const v2 = kvKeyPaths('kv2', 'v2', 'kmsstack/team-a/store');
  assert.equal(v1.entry('minio-key_1'), 'kv/kmsstack/team-a/store/minio-key_1');
  assert.equal(v2.entry('minio-key_1'), 'kv2/metadata/kmsstack/team-a/store/minio-key_1');
  assert.equal(v2.read('minio-key_1'), 'kv2/data/kmsstack/team-a/store/minio-key_1');
  for (const name of ['%2e%2e&#x2F;%2e%2e&#x2F;team-b&#x2F;k', '..%2fteam-b%2fk', 'a\\b', 'a.b', '-a', '_', 'x'.repeat(81), '']) {
    assert.throws(() => v1.entry(name), /refusing the Vault entry name ".*"…? as a key: it /, JSON.stringify(name));
  }
});

test('untrusted text is quoted: printable ASCII only, cut to length', () => {
  assert.equal(quoteUntrusted('..%2f..%2fother'), '"..%2f..%2fother"');
  assert.equal(quoteUntrusted('a"b\\c\n\u202e'), '"a\\"b\\\\c\\u000a\\u202e"');
  assert.equal(quoteUntrusted('x'.repeat(70)), `"${'x'.repeat(64)}"…`);
});
