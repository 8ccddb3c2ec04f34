// Certificates are parsed once per text: the memo is bounded (least recently used first out), parsed
// results are shared and frozen, and a text that does not parse fails the same way every time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { queryObjects } from 'node:v8';
import { x509 } from '../../../src/pki/x509.ts';
import { isIssuedBy, kesIdentity, parseCertificateBundle, parseCertificatePem} from '../../../src/pki/index.ts';
import { BoundedMemo } from '../../../src/pki/memo.ts';
import { testCA, testClientCertificate } from './support.ts';

describe('BoundedMemo', () => {
  it('computes once per key, and drops the least recently used key beyond its bound', () => {
    const memo = new BoundedMemo<string, number>(2);
    let computed = 0;
    const get = (key: string) => memo.get(key, () => ++computed);
    assert.equal(get('a'), 1);
    assert.equal(get('b'), 2);
    assert.equal(get('a'), 1, 'a is remembered (and now the most recently used)');
    assert.equal(get('c'), 3, 'c pushes out b, the least recently used');
    assert.equal(memo.size, 2);
    assert.equal(get('a'), 1);
    assert.equal(get('b'), 4, 'b was forgotten');
  });

  it('remembers nothing when the computation throws', () => {
    const memo = new BoundedMemo<string, number>(2);
    assert.throws(() => memo.get('x', () => { throw new Error('no'); }), /no/);
    assert.equal(memo.size, 0);
    assert.equal(memo.get('x', () => 7), 7);
  });
});

const ca = await testCA('memo-ca');
const leaf = await testClientCertificate(ca, 'memo-leaf');

describe('parsing certificates once per text', () => {

  it('returns the same frozen result for the same text', () => {
    const first = parseCertificatePem(leaf.certPem);
    assert.equal(parseCertificatePem(leaf.certPem), first);
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.info) && Object.isFrozen(first.info.dnsNames));
    assert.throws(() => (first.info.keyUsages as string[]).push('x'), TypeError);
    assert.equal(first.info.subject, 'CN=memo-leaf');
    const bundle = parseCertificateBundle(`${ca.certPem}${leaf.certPem}`);
    assert.equal(bundle.length, 2);
    assert.equal(bundle[1], first, 'a bundle shares the entries of its certificates');
    assert.equal(kesIdentity(leaf.certPem), first.info.kesIdentity);
  });

  it('keeps no parsed x509 object per entry, and the library\'s hex values as they were', async () => {
    const alive = () => queryObjects(x509.X509Certificate, { format: 'count' }) + queryObjects(x509.Extension, { format: 'count' });
    const before = alive();
    // Issued here, so remembered by issuance (parsedIssued), then read back by their text.
    const cas = await Promise.all(Array.from({ length: 20 }, (_, i) => testCA(`memo-held-${i}`)));
    const parsed = cas.map((c) => parseCertificatePem(c.certPem));
    assert.equal(alive() - before, 0, `x509 objects kept for ${cas.length} entries`);
    for (const [i, c] of cas.entries()) {
      const fresh = new x509.X509Certificate(c.certPem);
      const info = parsed[i]?.info;
      assert.equal(info?.serialNumber, fresh.serialNumber);
      assert.equal(info?.subjectKeyId, fresh.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);
    }
  });

  it('fails the same way each time for a text that is no certificate', () => {
    for (let i = 0; i < 2; i++) assert.throws(() => parseCertificatePem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), /not a valid X\.509 certificate/);
    assert.deepEqual(parseCertificateBundle('not pem'), []);
  });

  it('remembers signature checks by the two fingerprints', async () => {
    const cert = parseCertificatePem(leaf.certPem);
    const issuer = parseCertificatePem(ca.certPem);
    assert.equal(await isIssuedBy(cert, issuer), true);
    assert.equal(await isIssuedBy(cert, issuer), true);
    assert.equal(await isIssuedBy(issuer, cert), false);
  });
});
