import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  issueServerCertificate,
  validateCASecret,
  type CAValidation,
} from '../../../src/pki/index.ts';
import { OpenSSL, at, day, hour, testCA, testClientCertificate } from './support.ts';

function assertNoKeyMaterial(message: string, ...keyPems: string[]): void {
  assert.doesNotMatch(message, /PRIVATE KEY/);
  for (const pem of keyPems) {
    for (const line of pem.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'))) {
      assert.ok(!message.includes(line), 'the message quotes key material');
      assert.ok(!message.includes(line.slice(0, 16)), 'the message quotes key material');
    }
  }
}

function refused(validation: CAValidation): Extract<CAValidation, { ok: false }> {
  assert.equal(validation.ok, false, 'expected the CA Secret to be refused');
  return validation as Extract<CAValidation, { ok: false }>;
}

const [ca, other] = await Promise.all([testCA('corp'), testCA('other')]);

describe('validating a CA Secret', () => {
  const openssl = new OpenSSL();
  const options = { secretName: 'corp-ca', field: 'spec.tls.caSecretRef', now: at(hour) };
  after(() => openssl.cleanup());

  it('accepts a CA certificate with its key', async () => {
    const result = await validateCASecret({ 'tls.crt': ca.certPem, 'tls.key': ca.keyPem }, options);
    assert.equal(result.ok, true);
  });

  it('names the Secret, the field and the missing key', async () => {
    assert.equal(refused(await validateCASecret(undefined, options)).message, 'CA Secret "corp-ca" (spec.tls.caSecretRef): was not found');
    assert.equal(
      refused(await validateCASecret({ 'tls.key': ca.keyPem }, options)).message,
      'CA Secret "corp-ca" (spec.tls.caSecretRef): key "tls.crt" is missing or empty',
    );
    const noKey = refused(await validateCASecret({ 'tls.crt': ca.certPem, 'tls.key': '  ' }, options));
    assert.equal(noKey.problem, 'Missing');
    assert.match(noKey.message, /key "tls.key" is missing or empty$/);
  });

  it('says when tls.crt is not a certificate, without quoting it even if it is a key', async () => {
    const swapped = refused(await validateCASecret({ 'tls.crt': ca.keyPem, 'tls.key': ca.keyPem }, options));
    assert.equal(swapped.problem, 'Unreadable');
    assert.match(swapped.message, /key "tls.crt" holds no PEM "CERTIFICATE" block$/);
    assertNoKeyMaterial(swapped.message, ca.keyPem);
    const broken = `-----BEGIN CERTIFICATE-----\n${Buffer.from('not a certificate at all').toString('base64')}\n-----END CERTIFICATE-----\n`;
    assert.match(refused(await validateCASecret({ 'tls.crt': broken, 'tls.key': ca.keyPem }, options)).message, /not a valid X.509 certificate/);
  });

  it('says when tls.key is unreadable or belongs to another certificate, without quoting it', async () => {
    const mismatch = refused(await validateCASecret({ 'tls.crt': ca.certPem, 'tls.key': other.keyPem }, options));
    assert.equal(mismatch.problem, 'KeyMismatch');
    assert.match(mismatch.message, /the private key in "tls.key" does not belong to the certificate in "tls.crt"$/);
    assertNoKeyMaterial(mismatch.message, other.keyPem, ca.keyPem);
    assert.equal(mismatch.certificate?.info.fingerprint, ca.certificate.info.fingerprint);

    const truncated = ca.keyPem.slice(0, 80);
    const unreadable = refused(await validateCASecret({ 'tls.crt': ca.certPem, 'tls.key': truncated }, options));
    assert.equal(unreadable.problem, 'Unreadable');
    assert.match(unreadable.message, /key "tls.key" is not an unencrypted PEM private key$/);
    assertNoKeyMaterial(unreadable.message, ca.keyPem);

    const encryptedPem = openssl.text(['pkcs8', '-topk8', '-v2', 'aes256', '-passout', 'pass:secret'], ca.keyPem);
    const encrypted = refused(await validateCASecret({ 'tls.crt': ca.certPem, 'tls.key': encryptedPem }, options));
    assert.match(encrypted.message, /not an unencrypted PEM private key/);
    assertNoKeyMaterial(encrypted.message, encryptedPem, ca.keyPem);
  });

  it('refuses a leaf certificate and a CA that may not sign certificates', async () => {
    const leaf = await testClientCertificate(ca, 'leaf');
    const notCA = refused(await validateCASecret({ 'tls.crt': leaf.certPem, 'tls.key': leaf.keyPem }, options));
    assert.equal(notCA.problem, 'NotACA');
    assert.match(notCA.message, /is not a CA \(basicConstraints CA:true is missing\)/);

    const key = openssl.file(openssl.text(['ecparam', '-genkey', '-name', 'prime256v1']));
    const cert = openssl.text(['req', '-new', '-x509', '-days', '30', '-key', key, '-subj', '/CN=no-sign', '-addext', 'keyUsage=critical,digitalSignature']);
    const noSign = refused(await validateCASecret({ 'tls.crt': cert, 'tls.key': openssl.text(['pkey', '-in', key]) }, { ...options, now: new Date(Date.now() + 2000) }));
    assert.match(noSign.message, /keyUsage lacks keyCertSign/);
  });

  it('refuses a CA outside its validity', async () => {
    const expired = refused(await validateCASecret({ 'tls.crt': ca.certPem, 'tls.key': ca.keyPem }, { ...options, now: at(31 * day) }));
    assert.equal(expired.problem, 'Expired');
    assert.match(expired.message, /expired at 2030-01-31T00:00:00.000Z$/);
    const early = refused(await validateCASecret({ 'tls.crt': ca.certPem, 'tls.key': ca.keyPem }, { ...options, now: at(-hour) }));
    assert.equal(early.problem, 'NotYetValid');
  });

  it('signs with CAs openssl made: SEC1 EC keys, PKCS#1 RSA keys; and refuses weak or foreign key types', async () => {
    // openssl dates its certificates by the wall clock, to the second; validate a moment later.
    const later = (): Date => new Date(Date.now() + 2000);
    const make = (keyPem: string, subj: string): string => openssl.text(['req', '-new', '-x509', '-days', '30', '-key', openssl.file(keyPem), '-subj', subj]);

    const ecKey = openssl.text(['ecparam', '-genkey', '-name', 'secp384r1', '-noout']);
    assert.match(ecKey, /BEGIN EC PRIVATE KEY/);
    const p521Key = openssl.text(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521']);
    const rsaKey = openssl.text(['genrsa', '-traditional', '2048']);
    assert.match(rsaKey, /BEGIN RSA PRIVATE KEY/);
    for (const [keyPem, subj] of [[ecKey, '/CN=corp-ec'], [p521Key, '/CN=corp-p521'], [rsaKey, '/CN=corp-rsa']] as const) {
      const certPem = make(keyPem, subj);
      const now = later();
      const result = await validateCASecret({ 'tls.crt': certPem, 'tls.key': keyPem }, { ...options, now });
      assert.ok(result.ok, subj);
      const server = await issueServerCertificate({ ca: result.authority, subject: { commonName: 'kes' }, dnsNames: ['kes'], validityMs: day, now });
      assert.equal(server.certificate.info.keyAlgorithm, 'ECDSA-P256');
      const [verified, out] = openssl.verify(certPem, server.certPem, new Date(now.getTime() + hour), 'sslserver');
      assert.ok(verified, `${subj}: ${out}`);
    }

    const weakKey = openssl.text(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024']);
    const weak = refused(await validateCASecret({ 'tls.crt': make(weakKey, '/CN=weak'), 'tls.key': weakKey }, { ...options, now: later() }));
    assert.equal(weak.problem, 'UnsupportedKey');
    assert.match(weak.message, /cannot sign with a RSA-1024 key/);
    const edKey = openssl.text(['genpkey', '-algorithm', 'ED25519']);
    const ed = refused(await validateCASecret({ 'tls.crt': make(edKey, '/CN=ed'), 'tls.key': edKey }, { ...options, now: later() }));
    assert.match(ed.message, /cannot sign with a ed25519 key/);
    assertNoKeyMaterial(ed.message, edKey);
  });
});
