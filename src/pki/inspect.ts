// Reading certificates: what a certificate says (names, validity, key, usages) and how it relates to a
// CA and to a private key. Nothing here issues anything.
import { createHash, createPublicKey, type KeyObject, X509Certificate as NativeX509Certificate } from 'node:crypto';
import { x509 } from './x509.ts';
import { certificatePem, firstCertificateDer, pemBlocks, PemError } from './pem.ts';
import { describeKey, privateKeyFacts, publicKeyIdOf } from './keys.ts';
import { kesIdentityOfCertificate } from './identity.ts';
import { BoundedMemo } from './memo.ts';

export interface CertificateInfo {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  dnsNames: string[];
  ipAddresses: string[];
  /** "ECDSA-P256", "ECDSA-P384", "RSA-2048", ... (see describeKey). */
  keyAlgorithm: string;
  isCA: boolean;
  pathLength?: number;
  keyUsages: string[];
  /** "serverAuth", "clientAuth", or the OID of any other purpose. */
  extendedKeyUsages: string[];
  subjectKeyId?: string;
  authorityKeyId?: string;
  /** Hex SHA-256 of the certificate's DER; names a certificate (e.g. a CA in the trust bundle). */
  fingerprint: string;
  kesIdentity: string;
}

export interface ParsedCertificate {
  /** The certificate alone, re-encoded as PEM. */
  readonly pem: string;
  /** The DER of the subject name, byte for byte: the issuer name of what this certificate signs. */
  readonly subjectName: ArrayBuffer;
  /** Names the key pair (publicKeyIdOf); a parsed key would cost ~2.5 KB of OpenSSL memory an entry. */
  readonly publicKeyId: string;
  readonly info: Readonly<CertificateInfo>;
}

/**
 * Parsed certificates by their text, and signature checks by the two fingerprints. About 3 KB an
 * entry: enough for the CA and leaves of ~1,000 KMSDeployments; parsed results are frozen, as they
 * are shared by every reconcile that reads the same text. An entry keeps no parsed x509 object, nor
 * anything a closure over one would keep (a heap snapshot at N = 500 found 7.6 KB an entry when it did).
 */
const MEMO_ENTRIES = 4096;
const parsedPem = new BoundedMemo<string, ParsedCertificate | PemError>(MEMO_ENTRIES);
const parsedBundle = new BoundedMemo<string, readonly ParsedCertificate[]>(MEMO_ENTRIES);
const issuedBy = new BoundedMemo<string, Promise<boolean>>(MEMO_ENTRIES);

/** The key usage bits and their RFC 5280 names, in bit order (the names are the enum's own). */
const keyUsageNames = Object.entries(x509.KeyUsageFlags)
  .filter((entry): entry is [string, number] => typeof entry[1] === 'number')
  .map(([name, flag]) => [flag, name] as const);

/**
 * The library builds hex strings a character at a time: V8 keeps each as a chain of ~40 concatenations
 * (~1.3 KB for a 20-byte key identifier). Remembered for long, they are rewritten as one flat string.
 */
function flatHex(hex: string): string {
  return Buffer.from(hex, 'hex').toString('hex');
}

const extendedKeyUsageNames: Record<string, string> = {
  [x509.ExtendedKeyUsage.serverAuth]: 'serverAuth',
  [x509.ExtendedKeyUsage.clientAuth]: 'clientAuth',
};

/** The certificate of a Secret's "tls.crt", or what is wrong with it (a message fragment). */
export function parseTlsCrt(certPem: string): ParsedCertificate | { problem: string } {
  try {
    return parseCertificatePem(certPem);
  } catch (error) {
    return { problem: `key "tls.crt" ${(error as Error).message}` };
  }
}

/** `text`: the PEM text the DER came from, kept as the result's `pem` when it is exactly that certificate. */
function parseDer(der: ArrayBuffer, text?: string): ParsedCertificate {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(der);
  } catch {
    throw new PemError('holds a "CERTIFICATE" block that is not a valid X.509 certificate');
  }
  return describeCertificate(cert, cert.extensions, text);
}

/**
 * A certificate the operator has just made, as parseCertificatePem would return it, and remembered as
 * its text so that the next reconcile does not parse it again.
 */
export function parsedIssued(cert: x509.X509Certificate, extensions: readonly x509.Extension[]): ParsedCertificate {
  const parsed = describeCertificate(cert, extensions);
  return parsedPem.get(parsed.pem, () => parsed) as ParsedCertificate;
}

/**
 * `extensions` are the certificate's own, when the caller has them as objects already: the generator's
 * input for a certificate just issued. Read from the certificate, each is re-encoded and parsed again,
 * the larger part of describing one.
 */
function describeCertificate(cert: x509.X509Certificate, extensions: readonly x509.Extension[],
  text?: string): ParsedCertificate
{
  const extension = <T extends x509.Extension>(type: new(...args: never[]) => T) =>
    extensions.find((e): e is T => e instanceof type);
  const der = cert.rawData;
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: Buffer.from(cert.publicKey.rawData), format: 'der', type: 'spki' });
  } catch {
    throw new PemError('holds a "CERTIFICATE" block that is not a valid X.509 certificate');
  }
  const names = extension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
  const basic = extension(x509.BasicConstraintsExtension);
  const usage = extension(x509.KeyUsagesExtension);
  const extended = extension(x509.ExtendedKeyUsageExtension);
  const info: CertificateInfo = {
    subject: cert.subject,
    issuer: cert.issuer,
    serialNumber: flatHex(cert.serialNumber),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    dnsNames: names.filter((n) => n.type === 'dns').map((n) => n.value),
    ipAddresses: names.filter((n) => n.type === 'ip').map((n) => n.value),
    keyAlgorithm: describeKey(publicKey),
    isCA: basic?.ca ?? false,
    keyUsages: usage ? keyUsageNames.filter(([flag]) => (usage.usages & flag) !== 0).map(([, name]) => name) : [],
    extendedKeyUsages: Array.from(extended?.usages ?? [], (oid) => extendedKeyUsageNames[String(oid)] ?? String(oid)),
    fingerprint: createHash('sha256').update(new Uint8Array(der)).digest('hex'),
    kesIdentity: kesIdentityOfCertificate(cert),
  };
  if (basic?.pathLength !== undefined) info.pathLength = basic.pathLength;
  const ski = extension(x509.SubjectKeyIdentifierExtension)?.keyId;
  if (ski) info.subjectKeyId = flatHex(ski);
  const aki = extension(x509.AuthorityKeyIdentifierExtension)?.keyId;
  if (aki) info.authorityKeyId = flatHex(aki);
  Object.freeze(info.dnsNames);
  Object.freeze(info.ipAddresses);
  Object.freeze(info.keyUsages);
  Object.freeze(info.extendedKeyUsages);
  const pem = certificatePem(der);
  return Object.freeze({
    // The memo's key is often this very text: one copy of it, not two.
    pem: pem === text ? text : pem,
    subjectName: cert.subjectName.toArrayBuffer(),
    publicKeyId: publicKeyIdOf(publicKey),
    info: Object.freeze(info),
  });
}

/** Parses the first certificate of a PEM text; throws PemError ("holds no ...") naming no content. */
export function parseCertificatePem(pem: string): ParsedCertificate {
  const parsed = parsedPem.get(pem, () => {
    try {
      return parseDer(firstCertificateDer(pem), pem);
    } catch (error) {
      if (error instanceof PemError) return error;
      throw error;
    }
  });
  if (parsed instanceof PemError) throw new PemError(parsed.message);
  return parsed;
}

/** The KES identity of the first certificate in a PEM text; throws PemError when there is none. */
export function kesIdentity(certPem: string): string {
  return parseCertificatePem(certPem).info.kesIdentity;
}

/** Every certificate of a PEM bundle that parses; the others are skipped (a bundle is advisory). */
export function parseCertificateBundle(pem: string | undefined): ParsedCertificate[] {
  if (!pem) return [];
  return [...parsedBundle.get(pem, () => Object.freeze(parseBundle(pem)))];
}

function parseBundle(pem: string): ParsedCertificate[] {
  let blocks: ArrayBuffer[];
  try {
    blocks = pemBlocks(pem, 'CERTIFICATE');
  } catch {
    return [];
  }
  const parsed: ParsedCertificate[] = [];
  for (const der of blocks) {
    try {
      // Through the memo: a bundle's CA is mostly one the operator has parsed (or issued) already.
      parsed.push(parseCertificatePem(certificatePem(der)));
    } catch {
      // skipped on purpose
    }
  }
  return parsed;
}

/**
 * True when `cert` names `ca` as its issuer and carries a valid signature by the CA's key (the check a
 * TLS peer makes, minus validity dates, which callers judge themselves).
 */
export function isIssuedBy(cert: ParsedCertificate, ca: ParsedCertificate): Promise<boolean> {
  // Fingerprints name the exact DER of both: the answer cannot change.
  return issuedBy.get(`${cert.info.fingerprint}<${ca.info.fingerprint}`,
    () => Promise.resolve(checkIssuedBy(cert, ca)));
}

function checkIssuedBy(parsed: ParsedCertificate, parsedCA: ParsedCertificate): boolean {
  // Node's (OpenSSL's) parser: checkIssued compares the names and key identifiers, verify the signature.
  try {
    const [cert, ca] = [new NativeX509Certificate(parsed.pem), new NativeX509Certificate(parsedCA.pem)];
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}

/** True when `keyPem` is an unencrypted PEM private key belonging to the first certificate of `certPem`. */
export function keyMatchesCertificate(keyPem: string, certPem: string): boolean {
  const key = privateKeyFacts(keyPem);
  if (!key) return false;
  let cert: ParsedCertificate;
  try {
    cert = parseCertificatePem(certPem);
  } catch {
    return false;
  }
  return key.publicKeyId === cert.publicKeyId;
}
