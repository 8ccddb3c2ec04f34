import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  clockSkewAllowanceMs,
  createCA,
  isIssuedBy,
  issueClientCertificate,
  issueServerCertificate,
  kesServerDnsNames,
  keyMatchesCertificate,
  parseCertificatePem,
  type IssuedAuthority,
} from '../../../src/pki/index.ts';
import { OpenSSL, T0, at, day, hour } from './support.ts';

describe('issuing the CA and leaf certificates', () => {
  const openssl = new OpenSSL();
  let ca: IssuedAuthority;
  const dnsNames = kesServerDnsNames('tenant-a', 'storage', 'example.internal');

  before(async () => {
    ca = await createCA({ subject: { commonName: 'tenant-a-ca', organization: 'kmsstack-operator', organizationalUnit: 'storage' }, validityMs: 3650 * day, now: T0 });
  });
  after(() => openssl.cleanup());

  it('describes what it issued exactly as parsing the certificate does (it describes new ones from the generator\'s extensions)', async () => {
    const server = await issueServerCertificate({ ca: ca.authority, subject: { commonName: 'kes' }, dnsNames, ipAddresses: ['10.0.0.1', '::1'], validityMs: 90 * day, now: T0 });
    const client = await issueClientCertificate({ ca: ca.authority, subject: { commonName: 'minio' }, validityMs: 90 * day, now: T0 });
    for (const [what, issued] of [['CA', ca], ['server', server], ['client', client]] as const) {
      // Another spelling of the same certificate (CRLF line ends) misses the memo that parsedIssued filled.
      const parsed = parseCertificatePem(issued.certPem.replaceAll('\n', '\r\n'));
      assert.notEqual(parsed, issued.certificate, `${what}: parsed afresh`);
      assert.deepEqual(issued.certificate.info, parsed.info, what);
      assert.deepEqual(Buffer.from(issued.certificate.subjectName), Buffer.from(parsed.subjectName), what);
      assert.equal(issued.certificate.publicKeyId, parsed.publicKeyId, what);
    }
    assert.deepEqual(server.certificate.info.ipAddresses, ['10.0.0.1', '::1']);
  });

  it('makes a P-256 CA with CA:true, pathlen 0, keyCertSign and a SKI', async () => {
    const { info } = ca.certificate;
    assert.equal(info.keyAlgorithm, 'ECDSA-P256');
    assert.equal(info.isCA, true);
    assert.equal(info.pathLength, 0);
    assert.deepEqual(info.keyUsages, ['keyCertSign', 'cRLSign']);
    assert.match(info.subjectKeyId ?? '', /^[0-9a-f]{40}$/);
    assert.equal(info.subject, 'O=kmsstack-operator, OU=storage, CN=tenant-a-ca');
    assert.equal(await isIssuedBy(ca.certificate, ca.certificate), true);
    assert.equal(keyMatchesCertificate(ca.keyPem, ca.certPem), true);
    assert.match(ca.keyPem, /^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
    const text = openssl.text(['x509', '-noout', '-ext', 'basicConstraints,keyUsage'], ca.certPem);
    assert.match(text, /critical\s+CA:TRUE, pathlen:0/);
    assert.match(text, /Key Usage: critical\s+Certificate Sign, CRL Sign/);
    const [ok, out] = openssl.verify(ca.certPem, ca.certPem, at(hour));
    assert.ok(ok, out);
  });

  it('makes a KES server certificate that openssl accepts for sslserver with exactly the SANs asked for', async () => {
    const server = await issueServerCertificate({ ca: ca.authority, subject: { commonName: 'tenant-a-kes' }, dnsNames, validityMs: 90 * day, now: T0 });
    const { info } = server.certificate;
    assert.deepEqual(info.dnsNames, [
      'tenant-a-kes',
      'tenant-a-kes.storage',
      'tenant-a-kes.storage.svc',
      'tenant-a-kes.storage.svc.example.internal',
    ]);
    assert.deepEqual(info.extendedKeyUsages, ['serverAuth']);
    assert.deepEqual(info.keyUsages, ['digitalSignature']);
    assert.equal(info.isCA, false);
    assert.equal(info.keyAlgorithm, 'ECDSA-P256');
    assert.equal(info.authorityKeyId, ca.certificate.info.subjectKeyId);
    assert.equal(await isIssuedBy(server.certificate, ca.certificate), true);
    assert.equal(keyMatchesCertificate(server.keyPem, server.certPem), true);

    const [ok, out] = openssl.verify(ca.certPem, server.certPem, at(day), 'sslserver');
    assert.ok(ok, out);
    const text = openssl.text(['x509', '-noout', '-ext', 'subjectAltName,extendedKeyUsage,basicConstraints,keyUsage'], server.certPem);
    assert.match(text, /DNS:tenant-a-kes, DNS:tenant-a-kes\.storage, DNS:tenant-a-kes\.storage\.svc, DNS:tenant-a-kes\.storage\.svc\.example\.internal/);
    assert.match(text, /TLS Web Server Authentication/);
    assert.doesNotMatch(text, /Client Authentication/);
    assert.match(text, /critical\s+CA:FALSE/);
    assert.match(text, /Key Usage: critical\s+Digital Signature\n/);
    // openssl also checks the host name the way a TLS client would.
    assert.ok(openssl.verify(ca.certPem, server.certPem, at(day)).at(0));
    const hostOk = openssl.text(['x509', '-noout', '-checkhost', 'tenant-a-kes.storage.svc'], server.certPem);
    assert.match(hostOk, /does match certificate/);
  });

  it('makes client certificates that openssl accepts for sslclient but not for sslserver', async () => {
    const client = await issueClientCertificate({ ca: ca.authority, subject: { commonName: 'tenant-a-minio' }, validityMs: 90 * day, now: T0 });
    assert.deepEqual(client.certificate.info.extendedKeyUsages, ['clientAuth']);
    assert.deepEqual(client.certificate.info.dnsNames, []);
    const [ok, out] = openssl.verify(ca.certPem, client.certPem, at(day), 'sslclient');
    assert.ok(ok, out);
    const [asServer] = openssl.verify(ca.certPem, client.certPem, at(day), 'sslserver');
    assert.equal(asServer, false);
  });

  it('starts a little before now and lasts exactly the validity asked for', async () => {
    const now = new Date('2030-01-01T00:00:00.750Z');
    const client = await issueClientCertificate({ ca: ca.authority, subject: { commonName: 'c' }, validityMs: 90 * day, now });
    assert.equal(client.certificate.info.notBefore.getTime(), T0.getTime() - clockSkewAllowanceMs);
    assert.equal(client.certificate.info.notAfter.getTime(), T0.getTime() + 90 * day);
    assert.equal(openssl.verify(ca.certPem, client.certPem, at(90 * day - 1000))[0], true);
    const [afterExpiry, out] = openssl.verify(ca.certPem, client.certPem, at(90 * day + 1000));
    assert.equal(afterExpiry, false);
    assert.match(out, /certificate has expired/);
  });

  it('never lets a leaf outlive its CA', async () => {
    const shortCA = await createCA({ subject: { commonName: 'short' }, validityMs: 10 * day, now: T0 });
    const leaf = await issueClientCertificate({ ca: shortCA.authority, subject: { commonName: 'c' }, validityMs: 90 * day, now: at(day) });
    assert.equal(leaf.certificate.info.notAfter.getTime(), shortCA.certificate.info.notAfter.getTime());
    await assert.rejects(
      issueClientCertificate({ ca: shortCA.authority, subject: { commonName: 'c' }, validityMs: day, now: at(11 * day) }),
      /the CA expired at 2030-01-11T00:00:00.000Z/,
    );
  });

  it('issues P-384 keys when asked', async () => {
    const ca384 = await createCA({ subject: { commonName: 'p384' }, validityMs: day, now: T0, keyAlgorithm: 'ECDSA-P384' });
    const leaf = await issueServerCertificate({ ca: ca384.authority, subject: { commonName: 's' }, dnsNames: ['s'], validityMs: hour, now: T0, keyAlgorithm: 'ECDSA-P384' });
    assert.equal(ca384.certificate.info.keyAlgorithm, 'ECDSA-P384');
    assert.equal(leaf.certificate.info.keyAlgorithm, 'ECDSA-P384');
    assert.match(openssl.text(['x509', '-noout', '-text'], leaf.certPem), /ecdsa-with-SHA384/);
    assert.ok(openssl.verify(ca384.certPem, leaf.certPem, at(60_000), 'sslserver')[0]);
  });

  it('refuses names that are not DNS names, naming the field', async () => {
    const base = { ca: ca.authority, subject: { commonName: 's' }, validityMs: day, now: T0 };
    await assert.rejects(issueServerCertificate({ ...base, dnsNames: ['ok', 'Not_OK'] }), /dnsNames\[1\]: "Not_OK" is not a lower-case DNS name/);
    await assert.rejects(issueServerCertificate({ ...base, dnsNames: [] }), /dnsNames: a server certificate needs at least one name/);
    await assert.rejects(issueServerCertificate({ ...base, dnsNames: ['a'], ipAddresses: ['300.1.1.1'] }), /ipAddresses\[0\]: "300.1.1.1" is not an IP address/);
    await assert.rejects(issueClientCertificate({ ...base, subject: { commonName: 'x'.repeat(65) } }), /commonName: longer than 64 characters/);
  });

  it('puts IP addresses into the SANs', async () => {
    const server = await issueServerCertificate({ ca: ca.authority, subject: { commonName: 's' }, dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityMs: day, now: T0 });
    assert.deepEqual(server.certificate.info.ipAddresses, ['127.0.0.1']);
    assert.match(openssl.text(['x509', '-noout', '-checkip', '127.0.0.1'], server.certPem), /does match certificate/);
  });
});
