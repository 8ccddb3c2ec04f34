// Checks a server certificate the user brings (spec.minio.tls.certificateSecretRef,
// spec.kes.tls.certificateSecretRef: a kubernetes.io/tls Secret, e.g. cert-manager's) before any pod
// mounts it. The operator uses it as given and never writes it. Messages name the Secret and the field
// and never quote its contents.
import { X509Certificate } from 'node:crypto';
import { isIssuedBy, parseCertificateBundle, parseCertificatePem, type ParsedCertificate } from './inspect.ts';
import { privateKeyFacts } from './keys.ts';
import type { SecretContents } from './validate-ca.ts';

export interface UserCertificateInput {
  secretName: string;
  /** The spec field that names the Secret, e.g. "spec.minio.tls.certificateSecretRef". */
  field: string;
  /** The Secret's type; undefined when the Secret does not exist. */
  type: string | undefined;
  /** The Secret's data, decoded. */
  data: SecretContents | undefined;
  /** Host names the certificate must be valid for (the Service and per-pod names clients use). */
  requiredHosts: readonly string[];
  now: Date;
  /**
   * When the Secret has no ca.crt, the certificate must be signed by one of these (the deployment's
   * CA), so that the clients that trust only the deployment's bundle can verify it; undefined lets a
   * certificate without ca.crt through (its issuer is then the clients' business, e.g. public roots).
   */
  issuersWithoutBundle?: readonly ParsedCertificate[];
}

export type UserCertificate =
  | { ok: true; certificate: ParsedCertificate; /** ca.crt of the Secret, when it has one. */ caPem?: string }
  | { ok: false; message: string };

const TLS_TYPE = 'kubernetes.io/tls';

function hostsMissing(certPem: string, hosts: readonly string[]): string[] {
  const cert = new X509Certificate(certPem);
  // checkHost follows RFC 6125: a wildcard matches one label; the subject CN is not consulted.
  return hosts.filter((host) => cert.checkHost(host, { subject: 'never' }) === undefined);
}

export async function validateUserCertificate(input: UserCertificateInput): Promise<UserCertificate> {
  const where = `Secret ${JSON.stringify(input.secretName)} (${input.field})`;
  const fail = (what: string): UserCertificate => ({ ok: false, message: `${where}: ${what}` });
  if (input.type === undefined || !input.data) return fail('was not found in the namespace of the KMSDeployment');
  if (input.type !== TLS_TYPE) {
    return fail(`has type ${input.type}; it must be ${TLS_TYPE} (keys tls.crt, tls.key and optionally ca.crt)`);
  }
  const certPem = input.data['tls.crt'];
  const keyPem = input.data['tls.key'];
  if (!certPem?.trim()) return fail('key "tls.crt" is missing or empty');
  if (!keyPem?.trim()) return fail('key "tls.key" is missing or empty');
  let certificate: ParsedCertificate;
  try {
    certificate = parseCertificatePem(certPem);
  } catch (error) {
    return fail(`key "tls.crt" ${(error as Error).message}`);
  }
  const key = privateKeyFacts(keyPem);
  if (!key) return fail('key "tls.key" is not an unencrypted PEM private key');
  if (key.publicKeyId !== certificate.publicKeyId) {
    return fail('the private key in "tls.key" does not belong to the certificate in "tls.crt"');
  }
  const { info } = certificate;
  if (info.isCA) return fail('the certificate in "tls.crt" is a CA, not a server certificate');
  if (info.extendedKeyUsages.length > 0 && !info.extendedKeyUsages.includes('serverAuth')) {
    return fail('the certificate in "tls.crt" is not for TLS servers (extendedKeyUsage lacks serverAuth)');
  }
  if (info.notAfter.getTime() <= input.now.getTime()) {
    return fail(`the certificate in "tls.crt" expired at ${info.notAfter.toISOString()}`);
  }
  if (info.notBefore.getTime() > input.now.getTime()) {
    return fail(`the certificate in "tls.crt" is not valid before ${info.notBefore.toISOString()}`);
  }
  const missing = hostsMissing(certPem, input.requiredHosts);
  if (missing.length > 0) {
    const names = [...info.dnsNames, ...info.ipAddresses];
    return fail(
      `the certificate in "tls.crt" does not name ${
        missing.join(', ')
      }, which clients connect to (its subjectAltNames: ${names.join(', ') || 'none'})`,
    );
  }

  // An intermediate CA may come after the leaf in tls.crt (a chain); the leaf may be signed by it.
  const chain = parseCertificateBundle(certPem).slice(1).filter((cert) => cert.info.isCA);
  const caPem = input.data['ca.crt']?.trim() ? input.data['ca.crt'] : undefined;
  if (caPem !== undefined) {
    const cas = parseCertificateBundle(caPem).filter((cert) => cert.info.isCA);
    if (cas.length === 0) return fail('key "ca.crt" holds no CA certificate');
    if (!(await issuedByAny(certificate, [...cas, ...chain]))) {
      return fail(
        'the certificate in "tls.crt" is not signed by a CA in "ca.crt" (nor by an intermediate in "tls.crt")',
      );
    }
    return { ok: true, certificate, caPem };
  }
  if (input.issuersWithoutBundle && !(await issuedByAny(certificate, [...input.issuersWithoutBundle, ...chain]))) {
    return fail(
      `has no "ca.crt" and the certificate is not signed by the deployment's CA, so its clients could not verify it: add the issuing CA as "ca.crt" (cert-manager does)`,
    );
  }
  return { ok: true, certificate };
}

async function issuedByAny(cert: ParsedCertificate, cas: readonly ParsedCertificate[]): Promise<boolean> {
  for (const ca of cas) if (await isIssuedBy(cert, ca)) return true;
  return false;
}
