// Checks a CA Secret (the operator's own, or the user's named by spec.tls.caSecretRef) before anything
// is signed with it. Messages say what is wrong and never quote the Secret's contents.
import { privateKeyFacts, signingKeyOf } from './keys.ts';
import { type ParsedCertificate, parseTlsCrt } from './inspect.ts';
import type { CertificateAuthority } from './issue.ts';

/** A Secret's data, base64-decoded (see decodeSecretData in src/runtime/kube/secret-data.ts). */
export type SecretContents = Readonly<Record<string, string | undefined>>;

export type CAProblem = 'Missing' | 'Unreadable' | 'NotACA' | 'KeyMismatch' | 'Expired' | 'NotYetValid'
  | 'UnsupportedKey';

export type CAValidation =
  | { ok: true; authority: CertificateAuthority; certPem: string; keyPem: string }
  /** `certificate` is set when tls.crt parsed, so that a replaced CA can stay trusted for a while. */
  | { ok: false; problem: CAProblem; message: string; certificate?: ParsedCertificate };

export interface ValidateCAOptions {
  secretName: string;
  /** Where the Secret comes from, for messages (e.g. "spec.tls.caSecretRef"). */
  field?: string;
  now: Date;
}

export async function validateCASecret(data: SecretContents | undefined,
  options: ValidateCAOptions): Promise<CAValidation>
{
  const where = `CA Secret ${JSON.stringify(options.secretName)}${options.field ? ` (${options.field})` : ''}`;
  const fail = (problem: CAProblem, what: string, certificate?: ParsedCertificate): CAValidation =>
    certificate
      ? { ok: false, problem, message: `${where}: ${what}`, certificate }
      : { ok: false, problem, message: `${where}: ${what}` };

  if (!data) return fail('Missing', 'was not found');
  const certPem = data['tls.crt'];
  const keyPem = data['tls.key'];
  if (!certPem?.trim()) return fail('Missing', 'key "tls.crt" is missing or empty');
  if (!keyPem?.trim()) return fail('Missing', 'key "tls.key" is missing or empty');

  const certificate = parseTlsCrt(certPem);
  if ('problem' in certificate) return fail('Unreadable', certificate.problem);
  const { info } = certificate;
  if (!info.isCA) {
    return fail('NotACA', 'the certificate in "tls.crt" is not a CA (basicConstraints CA:true is missing)',
      certificate);
  }
  if (info.keyUsages.length > 0 && !info.keyUsages.includes('keyCertSign')) {
    return fail('NotACA', 'the certificate in "tls.crt" may not sign certificates (keyUsage lacks keyCertSign)',
      certificate);
  }
  if (info.notAfter.getTime() <= options.now.getTime()) {
    return fail('Expired', `the certificate in "tls.crt" expired at ${info.notAfter.toISOString()}`, certificate);
  }
  if (info.notBefore.getTime() > options.now.getTime()) {
    return fail('NotYetValid', `the certificate in "tls.crt" is not valid before ${info.notBefore.toISOString()}`,
      certificate);
  }

  const key = privateKeyFacts(keyPem);
  if (!key) return fail('Unreadable', 'key "tls.key" is not an unencrypted PEM private key', certificate);
  if (key.publicKeyId !== certificate.publicKeyId) {
    return fail('KeyMismatch', 'the private key in "tls.key" does not belong to the certificate in "tls.crt"',
      certificate);
  }
  const signing = await signingKeyOf(keyPem);
  if (!signing) {
    return fail('UnsupportedKey',
      `cannot sign with a ${key.algorithm} key (supported: ECDSA P-256, P-384, P-521; RSA of 2048 bits or more)`,
      certificate);
  }
  return { ok: true, authority: { certificate, privateKey: signing.privateKey, signer: signing.signer }, certPem,
    keyPem };
}
