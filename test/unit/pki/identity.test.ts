import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { createCA, issueClientCertificate, kesIdentity } from '../../../src/pki/index.ts';
import { keyPairFromPrivateKeyPem } from '../../../src/pki/keys.ts';
import { OpenSSL, T0, day } from './support.ts';

/** The identity as a shell would compute it: openssl x509 -pubkey | openssl pkey -pubin -outform DER | sha256. */
function opensslIdentity(openssl: OpenSSL, certPem: string): string {
  const pubkey = openssl.text(['x509', '-pubkey', '-noout'], certPem);
  const der = openssl.run(['pkey', '-pubin', '-outform', 'DER'], pubkey);
  return createHash('sha256').update(der).digest('hex');
}

describe('KES identity', () => {
  const openssl = new OpenSSL();
  after(() => openssl.cleanup());

  it('is the hex SHA-256 of the SubjectPublicKeyInfo, as openssl computes it', async () => {
    const ca = await createCA({ subject: { commonName: 'ca' }, validityMs: day, now: T0 });
    const client = await issueClientCertificate({ ca: ca.authority, subject: { commonName: 'minio' }, validityMs: day, now: T0 });
    const identity = kesIdentity(client.certPem);
    assert.match(identity, /^[0-9a-f]{64}$/);
    assert.equal(identity, opensslIdentity(openssl, client.certPem));
    assert.equal(identity, client.certificate.info.kesIdentity);
    assert.notEqual(identity, kesIdentity(ca.certPem));
  });

  it('works for any certificate, e.g. a self-signed one openssl made like the guide does', () => {
    const key = openssl.file(openssl.text(['ecparam', '-genkey', '-name', 'prime256v1', '-noout']));
    const cert = openssl.text(['req', '-new', '-x509', '-days', '365', '-key', key, '-subj', '/CN=MinIO']);
    assert.equal(kesIdentity(cert), opensslIdentity(openssl, cert));
    const rsaKey = openssl.file(openssl.text(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']));
    const rsaCert = openssl.text(['req', '-new', '-x509', '-days', '1', '-key', rsaKey, '-subj', '/CN=rsa']);
    assert.equal(kesIdentity(rsaCert), opensslIdentity(openssl, rsaCert));
  });

  it('depends on the key only: a certificate renewed with the same key keeps it', async () => {
    const ca = await createCA({ subject: { commonName: 'ca' }, validityMs: 10 * day, now: T0 });
    const first = await issueClientCertificate({ ca: ca.authority, subject: { commonName: 'minio' }, validityMs: day, now: T0 });
    const renewed = await issueClientCertificate({
      ca: ca.authority,
      subject: { commonName: 'minio' },
      validityMs: day,
      now: new Date(T0.getTime() + day / 2),
      keyPair: await keyPairFromPrivateKeyPem(first.keyPem, 'ECDSA-P256'),
    });
    assert.notEqual(renewed.certPem, first.certPem);
    assert.equal(kesIdentity(renewed.certPem), kesIdentity(first.certPem));
  });

  it('refuses text without a certificate, without quoting it', () => {
    const secretish = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n';
    assert.throws(() => kesIdentity(secretish), (error: Error) => {
      assert.equal(error.message, 'holds no PEM "CERTIFICATE" block');
      return true;
    });
  });
});
