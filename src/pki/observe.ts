// Turns what the PKI Secrets hold (possibly nothing, possibly garbage) into facts the plan can decide
// on: which certificates parse, whose keys match, which CA signed each leaf, which CAs are trusted.
import { isIssuedBy, parseCertificateBundle, type ParsedCertificate, parseTlsCrt } from './inspect.ts';
import { privateKeyFacts } from './keys.ts';
import { type LeafKind, leafKinds } from './names.ts';
import { type CAValidation, type SecretContents, validateCASecret } from './validate-ca.ts';

export type { SecretContents } from './validate-ca.ts';

export interface ObservedSecrets {
  /** Data of the CA Secret (`<name>-ca`, or the one spec.tls.caSecretRef names); undefined when absent. */
  ca: SecretContents | undefined;
  leaves: Partial<Record<LeafKind, SecretContents | undefined>>;
}

export interface ObserveOptions {
  caSecretName: string;
  /** True when the CA Secret is the user's (spec.tls.caSecretRef): the operator never writes it. */
  userCA: boolean;
  now: Date;
}

export type LeafObservation =
  | { state: 'missing' }
  | { state: 'corrupt'; problem: string; certificate?: ParsedCertificate; issuerFingerprint?: string; trusts: string[] }
  | {
    state: 'present';
    certificate: ParsedCertificate;
    certPem: string;
    keyPem: string;
    /** describeKey's name of the private key's kind ("ECDSA-P256"). */
    keyAlgorithm: string;
    /** Fingerprint of the known CA whose signature the certificate carries, if any. */
    issuerFingerprint?: string;
    /** Fingerprints of the CAs in the Secret's ca.crt, i.e. what the pods mounting it trust. */
    trusts: string[];
  };

export interface PkiObservation {
  userCA: boolean;
  ca: CAValidation;
  /** Every CA certificate seen (CA Secret, any ca.crt), by fingerprint. */
  knownCAs: ReadonlyMap<string, ParsedCertificate>;
  /** Fingerprints of the CAs that some observed ca.crt distributes. */
  distributedCAs: ReadonlySet<string>;
  leaves: Record<LeafKind, LeafObservation>;
}

async function findIssuer(cert: ParsedCertificate, cas: Iterable<ParsedCertificate>): Promise<string | undefined> {
  for (const ca of cas) if (await isIssuedBy(cert, ca)) return ca.info.fingerprint;
  return undefined;
}

function observeLeafText(
  data: SecretContents,
): { problem: string; certificate?: ParsedCertificate } | { certificate: ParsedCertificate; keyAlgorithm: string;
  certPem: string; keyPem: string }
{
  const certPem = data['tls.crt'];
  const keyPem = data['tls.key'];
  if (!certPem?.trim()) return { problem: 'key "tls.crt" is missing or empty' };
  const certificate = parseTlsCrt(certPem);
  if ('problem' in certificate) return certificate;
  if (!keyPem?.trim()) return { problem: 'key "tls.key" is missing or empty', certificate };
  const key = privateKeyFacts(keyPem);
  if (!key) return { problem: 'key "tls.key" is not an unencrypted PEM private key', certificate };
  if (key.publicKeyId !== certificate.publicKeyId) {
    return { problem: 'the private key in "tls.key" does not belong to the certificate in "tls.crt"', certificate };
  }
  return { certificate, keyAlgorithm: key.algorithm, certPem, keyPem };
}

export async function observePki(secrets: ObservedSecrets, options: ObserveOptions): Promise<PkiObservation> {
  const ca = await validateCASecret(secrets.ca, {
    secretName: options.caSecretName,
    now: options.now,
    ...(options.userCA ? { field: 'spec.tls.caSecretRef' } : {}),
  });
  const knownCAs = new Map<string, ParsedCertificate>();
  const distributedCAs = new Set<string>();
  const remember = (cert: ParsedCertificate): void => void knownCAs.set(cert.info.fingerprint, cert);
  if (ca.ok) remember(ca.authority.certificate);
  else if (ca.certificate) remember(ca.certificate);
  const trustOf = (data: SecretContents | undefined): string[] =>
    parseCertificateBundle(data?.['ca.crt'])
      .filter((cert) => cert.info.isCA)
      .map((cert) => {
        remember(cert);
        distributedCAs.add(cert.info.fingerprint);
        return cert.info.fingerprint;
      });
  // The operator's CA Secret carries the bundle it last wrote; a user's CA Secret's ca.crt is theirs.
  if (!options.userCA) trustOf(secrets.ca);
  const texts = leafKinds.map((kind) => [kind, secrets.leaves[kind], trustOf(secrets.leaves[kind])] as const);

  const leaves = {} as Record<LeafKind, LeafObservation>;
  for (const [kind, data, trusts] of texts) {
    if (!data) {
      leaves[kind] = { state: 'missing' };
      continue;
    }
    const seen = observeLeafText(data);
    const issuerFingerprint = seen.certificate ? await findIssuer(seen.certificate, knownCAs.values()) : undefined;
    const issuer = issuerFingerprint ? { issuerFingerprint } : {};
    leaves[kind] = 'problem' in seen
      ? { state: 'corrupt', problem: seen.problem, ...(seen.certificate ? { certificate: seen.certificate } : {}),
        ...issuer, trusts }
      : { state: 'present', ...seen, ...issuer, trusts };
  }
  return { userCA: options.userCA, ca, knownCAs, distributedCAs, leaves };
}
