// validateUserCertificate: a server certificate the user brings (spec.minio.tls / spec.kes.tls
// certificateSecretRef) is refused with a message naming the Secret, the field and what is wrong,
// and never quoting its contents.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createCA, issueClientCertificate, issueServerCertificate, validateUserCertificate, type IssuedAuthority } from '../../../src/pki/index.ts';

const day = 24 * 3_600_000;
const now = new Date('2030-01-01T00:00:00Z');
const hosts = ['tenant-a-minio.storage.svc.cluster.local', 'tenant-a-minio-0.tenant-a-minio-hl.storage.svc.cluster.local'];
const dnsNames = ['tenant-a-minio.storage.svc.cluster.local', '*.tenant-a-minio-hl.storage.svc.cluster.local'];

let corp: IssuedAuthority;
let other: IssuedAuthority;
let good: { certPem: string; keyPem: string };

const input = (data: Record<string, string> | undefined, extra: Partial<Parameters<typeof validateUserCertificate>[0]> = {}) => ({
  secretName: 'minio-cert', field: 'spec.minio.tls.certificateSecretRef', type: data ? 'kubernetes.io/tls' : undefined, data, requiredHosts: hosts, now, ...extra,
});
const problem = async (data: Record<string, string> | undefined, extra: Partial<Parameters<typeof validateUserCertificate>[0]> = {}): Promise<string> => {
  const result = await validateUserCertificate(input(data, extra));
  assert.equal(result.ok, false);
  return (result as { message: string }).message;
};

before(async () => {
  corp = await createCA({ subject: { commonName: 'corp-ca' }, validityMs: 720 * day, now: new Date(now.getTime() - day) });
  other = await createCA({ subject: { commonName: 'other-ca' }, validityMs: 720 * day, now: new Date(now.getTime() - day) });
  good = await issueServerCertificate({ ca: corp.authority, subject: { commonName: 'tenant-a-minio' }, dnsNames, validityMs: 90 * day, now: new Date(now.getTime() - day) });
});

describe('a certificate the user brings', () => {
  it('is accepted when it covers every host (a wildcard covers the per-pod names) and ca.crt signs it', async () => {
    const result = await validateUserCertificate(input({ 'tls.crt': good.certPem, 'tls.key': good.keyPem, 'ca.crt': corp.certPem }));
    assert.equal(result.ok, true);
    assert.equal(result.ok && result.caPem, corp.certPem);
  });

  it('without ca.crt: accepted for S3 (clients bring their roots), and for KES only when the deployment CA signed it', async () => {
    const data = { 'tls.crt': good.certPem, 'tls.key': good.keyPem };
    assert.equal((await validateUserCertificate(input(data))).ok, true);
    assert.equal((await validateUserCertificate(input(data, { issuersWithoutBundle: [corp.certificate] }))).ok, true);
    assert.match(await problem(data, { issuersWithoutBundle: [other.certificate] }), /has no "ca\.crt" and the certificate is not signed by the deployment's CA/);
  });

  it('names the Secret, the field and the problem, never its contents', async () => {
    const prefix = /^Secret "minio-cert" \(spec\.minio\.tls\.certificateSecretRef\): /;
    const expired = await issueServerCertificate({ ca: corp.authority, subject: { commonName: 'x' }, dnsNames, validityMs: 3_600_000, now: new Date(now.getTime() - day) });
    const narrow = await issueServerCertificate({ ca: corp.authority, subject: { commonName: 'x' }, dnsNames: ['tenant-a-minio.storage.svc.cluster.local'], validityMs: 90 * day, now });
    const client = await issueClientCertificate({ ca: corp.authority, subject: { commonName: 'x' }, validityMs: 90 * day, now });
    const cases: [string, Promise<string>, RegExp][] = [
      ['missing', problem(undefined), /was not found/],
      ['wrong type', problem({ 'tls.crt': good.certPem, 'tls.key': good.keyPem }, { type: 'Opaque' }), /has type Opaque; it must be kubernetes\.io\/tls/],
      ['no key', problem({ 'tls.crt': good.certPem }), /key "tls\.key" is missing or empty/],
      ['bad PEM', problem({ 'tls.crt': 'garbage', 'tls.key': good.keyPem }), /key "tls\.crt" (is not valid PEM|holds no PEM "CERTIFICATE" block)/],
      ['key mismatch', problem({ 'tls.crt': good.certPem, 'tls.key': narrow.keyPem }), /does not belong to the certificate/],
      ['expired', problem({ 'tls.crt': expired.certPem, 'tls.key': expired.keyPem }), /expired at 2029-12-31T01:00:00\.000Z/],
      ['missing SANs', problem({ 'tls.crt': narrow.certPem, 'tls.key': narrow.keyPem }), /does not name tenant-a-minio-0\.tenant-a-minio-hl\.storage\.svc\.cluster\.local, which clients connect to/],
      ['client certificate', problem({ 'tls.crt': client.certPem, 'tls.key': client.keyPem }), /extendedKeyUsage lacks serverAuth/],
      ['other CA', problem({ 'tls.crt': good.certPem, 'tls.key': good.keyPem, 'ca.crt': other.certPem }), /not signed by a CA in "ca\.crt"/],
      ['ca.crt no CA', problem({ 'tls.crt': good.certPem, 'tls.key': good.keyPem, 'ca.crt': good.certPem }), /"ca\.crt" holds no CA certificate/],
    ];
    for (const [what, message, expected] of cases) {
      const text = await message;
      assert.match(text, prefix, what);
      assert.match(text, expected, what);
      assert.doesNotMatch(text, /BEGIN|PRIVATE/, what);
    }
  });
});
