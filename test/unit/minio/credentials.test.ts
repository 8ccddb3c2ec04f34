import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildRootCredentialsSecret,
  buildStaticKeySecret,
  generateRootCredentials,
  generateStaticKey,
  type RandomBytes,
} from '../../../src/minio/credentials.ts';
import { assertGolden } from '../../support/golden.ts';
import { ref } from '../kes/fixtures.ts';

/** A deterministic byte source: 0, 1, 2, ... wrapping at 256. */
function counter(): RandomBytes {
  let next = 0;
  return (size) => Buffer.from(Array.from({ length: size }, () => next++ % 256));
}

const decode = (data: Record<string, string> | undefined, key: string) => Buffer.from(data?.[key] ?? '', 'base64').toString('utf8');

describe('MinIO root credentials', () => {
  it('generates a 20-character user and a 40-character password of letters and digits', () => {
    const creds = generateRootCredentials();
    assert.match(creds.rootUser, /^[A-Za-z0-9]{20}$/);
    assert.match(creds.rootPassword, /^[A-Za-z0-9]{40}$/);
    assert.notEqual(generateRootCredentials().rootPassword, creds.rootPassword);
  });

  it('skips bytes that would bias the alphabet', () => {
    // 248..255 are rejected (256 % 62 = 8), so a source of only such bytes followed by zeros yields "A"s.
    let calls = 0;
    const biased: RandomBytes = (size) => Buffer.alloc(size, calls++ === 0 ? 250 : 0);
    assert.equal(generateRootCredentials(biased).rootUser, 'A'.repeat(20));
  });

  it('builds the <name>-minio-root Secret (golden) and refuses credentials MinIO rejects', () => {
    const secret = buildRootCredentialsSecret(ref, generateRootCredentials(counter()));
    assertGolden('minio/root-secret.yaml', secret);
    assert.match(decode(secret.data, 'rootUser'), /^[A-Za-z0-9]{20}$/);
    assert.throws(() => buildRootCredentialsSecret(ref, { rootUser: 'ab', rootPassword: 'long-enough' }), /rootUser: MinIO needs at least 3/);
    assert.throws(() => buildRootCredentialsSecret(ref, { rootUser: 'abc', rootPassword: 'short' }), (err: Error) => {
      assert.match(err.message, /rootPassword: MinIO needs at least 8/);
      assert.doesNotMatch(err.message, /short/);
      return true;
    });
  });
});

describe('MinIO static key', () => {
  it('is "<name>:<base64 of 32 bytes>" as MINIO_KMS_SECRET_KEY expects', () => {
    const key = generateStaticKey('dev-key');
    const [name, material] = key.split(':');
    assert.equal(name, 'dev-key');
    assert.equal(Buffer.from(material ?? '', 'base64').length, 32);
    assert.equal(generateStaticKey('k', counter()), `k:${Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('base64')}`);
  });

  it('builds the <name>-minio-static-key Secret (golden) and refuses malformed keys', () => {
    assertGolden('minio/static-key-secret.yaml', buildStaticKeySecret(ref, generateStaticKey('dev-key', counter())));
    assert.throws(() => buildStaticKeySecret(ref, 'no-colon'), /must be "<key-name>:<base64 of 32 bytes>"/);
    assert.throws(() => buildStaticKeySecret(ref, `k:${Buffer.alloc(16).toString('base64')}`), /base64 of 32 bytes/);
    assert.throws(() => generateStaticKey('bad:name'), /spec\.minio\.keyName/);
  });
});
