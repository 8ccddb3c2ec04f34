// Keys are named by their parameters (publicKeyIdOf), so a key matches its certificate whatever encoding
// either uses; the facts of a key text are remembered without keeping the parsed key.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPublicKey, ECDH, generateKeyPairSync, KeyObject } from 'node:crypto';
import { queryObjects } from 'node:v8';
import { privateKeyFacts, publicKeyIdOf } from '../../../src/pki/keys.ts';

/** The SubjectPublicKeyInfo of a P-256 public key with its point compressed (33 bytes). */
function compressedP256Spki(key: KeyObject): Buffer {
  const uncompressed = key.export({ type: 'spki', format: 'der' }).subarray(-65);
  const point = ECDH.convertKey(uncompressed, 'prime256v1', undefined, undefined, 'compressed') as Buffer;
  const prefix = Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex');
  return Buffer.concat([prefix, point]);
}

describe('key identities', () => {
  it('names a key pair the same from its private key, its public key and any encoding of the public key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const compressed = createPublicKey({ key: compressedP256Spki(publicKey), format: 'der', type: 'spki' });
    assert.notDeepEqual(compressed.export({ type: 'spki', format: 'der' }), publicKey.export({ type: 'spki', format: 'der' }));
    assert.equal(publicKeyIdOf(privateKey), publicKeyIdOf(publicKey));
    assert.equal(publicKeyIdOf(compressed), publicKeyIdOf(publicKey));
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    assert.notEqual(publicKeyIdOf(other.publicKey), publicKeyIdOf(publicKey));
    for (const [type, options] of [['rsa', { modulusLength: 2048 }], ['ed25519', {}]] as const) {
      const pair = generateKeyPairSync(type as 'rsa', options as { modulusLength: number });
      assert.equal(publicKeyIdOf(pair.privateKey), publicKeyIdOf(pair.publicKey), type);
    }
  });

  it('remembers what a key text is without keeping the parsed key', () => {
    const texts = Array.from({ length: 20 }, () =>
      generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'sec1', format: 'pem' }) as string);
    const keyObjects = () => queryObjects(KeyObject, { format: 'count' });
    const before = keyObjects();
    const facts = texts.map((text) => privateKeyFacts(text));
    assert.equal(keyObjects() - before, 0, `parsed keys kept for ${texts.length} texts`);
    for (const fact of facts) assert.equal(fact?.algorithm, 'ECDSA-P384');
    assert.equal(privateKeyFacts(texts[0] as string), facts[0], 'remembered');
    assert.equal(privateKeyFacts('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'), undefined);
  });
});
