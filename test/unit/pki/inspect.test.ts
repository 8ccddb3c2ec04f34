import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  isIssuedBy,
  keyMatchesCertificate,
  parseCertificateBundle,
  parseCertificatePem,
} from '../../../src/pki/index.ts';
import { OpenSSL, testCA, testClientCertificate } from './support.ts';

const [ca, other] = await Promise.all([testCA('ca'), testCA('ca')]);
const leaf = await testClientCertificate(ca, 'leaf');

describe('inspecting certificates', () => {
  const openssl = new OpenSSL();
  after(() => openssl.cleanup());

  it('reads validity, subject, issuer and fingerprint as openssl does', () => {
    const { info } = parseCertificatePem(leaf.certPem);
    const text = openssl.text(['x509', '-noout', '-startdate', '-enddate', '-fingerprint', '-sha256', '-serial'], leaf.certPem);
    assert.match(text, /notBefore=Dec 31 23:55:00 2029 GMT/);
    assert.match(text, /notAfter=Jan {2}2 00:00:00 2030 GMT/);
    assert.equal(info.notAfter.toISOString(), '2030-01-02T00:00:00.000Z');
    const fingerprint = /sha256 Fingerprint=([0-9A-F:]+)/.exec(text)?.[1]?.replaceAll(':', '').toLowerCase();
    assert.equal(info.fingerprint, fingerprint);
    assert.equal(info.serialNumber.toUpperCase().replace(/^0+/, ''), /serial=([0-9A-F]+)/.exec(text)?.[1]?.replace(/^0+/, ''));
    assert.equal(info.issuer, 'CN=ca');
    assert.equal(info.subject, 'CN=leaf');
  });

  it('tells a key that belongs to a certificate from one that does not', () => {
    assert.equal(keyMatchesCertificate(leaf.keyPem, leaf.certPem), true);
    assert.equal(keyMatchesCertificate(ca.keyPem, leaf.certPem), false);
    assert.equal(keyMatchesCertificate('not a key', leaf.certPem), false);
    assert.equal(keyMatchesCertificate(leaf.keyPem, 'not a cert'), false);
    // The same key in SEC1 form, as `openssl ec` writes it, still matches.
    const sec1 = openssl.text(['ec', '-inform', 'PEM', '-outform', 'PEM'], leaf.keyPem);
    assert.match(sec1, /BEGIN EC PRIVATE KEY/);
    assert.equal(keyMatchesCertificate(sec1, leaf.certPem), true);
  });

  it('checks the issuer by signature, not by name alone', async () => {
    const parsed = parseCertificatePem(leaf.certPem);
    assert.equal(await isIssuedBy(parsed, ca.certificate), true);
    // Same subject "CN=ca", different key: not the issuer.
    assert.equal(await isIssuedBy(parsed, other.certificate), false);
    assert.equal(await isIssuedBy(ca.certificate, other.certificate), false);

    // Without key identifiers to tell them apart, only the signature can.
    const noIds = ['-addext', 'subjectKeyIdentifier=none', '-addext', 'authorityKeyIdentifier=none'];
    const caKey = openssl.file(openssl.text(['ecparam', '-genkey', '-name', 'prime256v1', '-noout']));
    const twinKey = openssl.file(openssl.text(['ecparam', '-genkey', '-name', 'prime256v1', '-noout']));
    const caPem = openssl.text(['req', '-new', '-x509', '-key', caKey, '-subj', '/CN=same', '-days', '3', ...noIds]);
    const twinPem = openssl.text(['req', '-new', '-x509', '-key', twinKey, '-subj', '/CN=same', '-days', '3', ...noIds]);
    const leafKey = openssl.file(openssl.text(['ecparam', '-genkey', '-name', 'prime256v1', '-noout']));
    const csr = openssl.file(openssl.text(['req', '-new', '-key', leafKey, '-subj', '/CN=leaf']));
    const ext = openssl.file('subjectKeyIdentifier=none\nauthorityKeyIdentifier=none\n');
    const leafPem = openssl.text(['x509', '-req', '-in', csr, '-CA', openssl.file(caPem), '-CAkey', caKey, '-days', '1', '-extfile', ext]);
    const plain = parseCertificatePem(leafPem);
    assert.equal(plain.info.authorityKeyId, undefined);
    assert.equal(await isIssuedBy(plain, parseCertificatePem(caPem)), true);
    assert.equal(await isIssuedBy(plain, parseCertificatePem(twinPem)), false);
  });

  it('reads bundles, skipping blocks that are not certificates', () => {
    const garbage = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    const bundle = parseCertificateBundle(`${ca.certPem}${garbage}${leaf.keyPem}junk\n${other.certPem}`);
    assert.deepEqual(bundle.map((c) => c.info.fingerprint), [ca.certificate.info.fingerprint, other.certificate.info.fingerprint]);
    assert.deepEqual(parseCertificateBundle(undefined), []);
    assert.deepEqual(parseCertificateBundle('garbage'), []);
  });
});
