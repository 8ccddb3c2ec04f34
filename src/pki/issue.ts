// Issuing certificates: the per-deployment CA and the leaf certificates it signs. Leaves get a
// P-256 (or P-384) key, digitalSignature, the serverAuth or clientAuth purpose, CA:false, SKI and AKI.
import { X509Certificate as NativeX509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { x509 } from './x509.ts';
import { type ParsedCertificate, parsedIssued } from './inspect.ts';
import { type CryptoKey, defaultKeyAlgorithm, exportPrivateKeyPem, generateKeyPair, type KeyAlgorithm, type KeyPair,
  type Signer, signerOf } from './keys.ts';

/**
 * Certificates start this long before `now`, so that a peer whose clock is a little behind the
 * operator's does not reject a certificate that was just issued.
 */
export const clockSkewAllowanceMs = 5 * 60_000;

export interface DistinguishedName {
  commonName: string;
  organization?: string;
  organizationalUnit?: string;
}

/** A CA the operator can sign with: its certificate and its private key. */
export interface CertificateAuthority {
  certificate: ParsedCertificate;
  privateKey: CryptoKey;
  signer: Signer;
}

export interface IssuedCertificate {
  certificate: ParsedCertificate;
  /** The certificate as PEM (trailing newline). */
  certPem: string;
  /** PKCS#8 PEM of the private key (trailing newline). Secret material: never log it. */
  keyPem: string;
}

export interface IssuedAuthority extends IssuedCertificate {
  authority: CertificateAuthority;
}

interface Validity {
  validityMs: number;
  /** Issue time; sub-second parts are dropped because X.509 times have one-second precision. */
  now: Date;
}

function toJsonName(dn: DistinguishedName): x509.JsonName {
  if (!dn.commonName) throw new Error('commonName: must not be empty');
  if (dn.commonName.length > 64) throw new Error(`commonName: longer than 64 characters (${dn.commonName.length})`);
  const name: x509.JsonName = [];
  if (dn.organization) name.push({ O: [dn.organization] });
  if (dn.organizationalUnit) name.push({ OU: [dn.organizationalUnit] });
  name.push({ CN: [dn.commonName] });
  return name;
}

function validityWindow({ validityMs, now }: Validity, ca?: ParsedCertificate): { notBefore: Date; notAfter: Date } {
  if (!Number.isFinite(validityMs) || validityMs < 1000) {
    throw new Error(`validity: must be at least 1s, got ${validityMs}ms`);
  }
  const issuedAt = Math.floor(now.getTime() / 1000) * 1000;
  let notBefore = issuedAt - clockSkewAllowanceMs;
  let notAfter = issuedAt + validityMs;
  if (ca) {
    // A certificate cannot be trusted past its CA's own expiry, so it is not issued to last longer.
    notBefore = Math.max(notBefore, ca.info.notBefore.getTime());
    notAfter = Math.min(notAfter, ca.info.notAfter.getTime());
    if (notAfter <= issuedAt) throw new Error(`the CA expired at ${ca.info.notAfter.toISOString()}`);
  }
  return { notBefore: new Date(notBefore), notAfter: new Date(notAfter) };
}

export interface CreateCAOptions extends Validity {
  subject: DistinguishedName;
  keyAlgorithm?: KeyAlgorithm;
}

/** A self-signed CA: CA:true with path length 0 (it signs leaves only), keyCertSign + cRLSign. */
export async function createCA(options: CreateCAOptions): Promise<IssuedAuthority> {
  const keys = await generateKeyPair(options.keyAlgorithm ?? defaultKeyAlgorithm);
  const signer = signerOf(keys.algorithm);
  const extensions = [
    new x509.BasicConstraintsExtension(true, 0, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: toJsonName(options.subject),
    keys: { privateKey: keys.privateKey, publicKey: keys.publicKey },
    signingAlgorithm: signer.signingAlgorithm,
    ...validityWindow(options),
    extensions,
  });
  const certificate = parsedIssued(cert, extensions);
  return { certificate, certPem: certificate.pem, keyPem: await exportPrivateKeyPem(keys.privateKey),
    authority: { certificate, privateKey: keys.privateKey, signer } };
}

export interface LeafOptions extends Validity {
  ca: CertificateAuthority;
  subject: DistinguishedName;
  keyAlgorithm?: KeyAlgorithm;
  /** The key to renew with instead of a new one (keeps a client's KES identity). */
  keyPair?: KeyPair;
}

export interface ServerCertificateOptions extends LeafOptions {
  dnsNames: string[];
  ipAddresses?: string[];
}

export type ClientCertificateOptions = LeafOptions;

const dnsLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A lower-case DNS name; its first label may be the wildcard `*` (one label, RFC 6125) when more than two follow. */
function checkDnsName(name: string, field: string): void {
  const labels = name.split('.');
  const wildcard = labels[0] === '*' && labels.length > 2;
  if (name.length > 253 || !labels.every((label, i) => (i === 0 && wildcard) || dnsLabel.test(label))) {
    throw new Error(`${field}: ${JSON.stringify(name)} is not a lower-case DNS name`);
  }
}

async function issueLeaf(options: LeafOptions, purpose: x509.ExtendedKeyUsage,
  extra: x509.Extension[]): Promise<IssuedCertificate>
{
  const { ca } = options;
  const keys = options.keyPair ?? (await generateKeyPair(options.keyAlgorithm ?? defaultKeyAlgorithm));
  const caKeyId = ca.certificate.info.subjectKeyId;
  const extensions = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([purpose]),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    caKeyId
      ? new x509.AuthorityKeyIdentifierExtension(caKeyId)
      // A CA without a key identifier (one a user brought): derive it from the CA's public key.
      : await x509.AuthorityKeyIdentifierExtension.create(
        new NativeX509Certificate(ca.certificate.pem).publicKey.export({ type: 'spki', format: 'der' }),
      ),
    ...extra,
  ];
  const cert = await x509.X509CertificateGenerator.create({
    subject: toJsonName(options.subject),
    issuer: new x509.Name(ca.certificate.subjectName),
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm: ca.signer.signingAlgorithm,
    ...validityWindow(options, ca.certificate),
    extensions,
  });
  const certificate = parsedIssued(cert, extensions);
  return { certificate, certPem: certificate.pem, keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

/** A TLS server certificate (serverAuth) for the given DNS names and IP addresses. */
export async function issueServerCertificate(options: ServerCertificateOptions): Promise<IssuedCertificate> {
  const ipAddresses = options.ipAddresses ?? [];
  if (options.dnsNames.length + ipAddresses.length === 0) {
    throw new Error('dnsNames: a server certificate needs at least one name');
  }
  options.dnsNames.forEach((name, i) => checkDnsName(name, `dnsNames[${i}]`));
  ipAddresses.forEach((ip, i) => {
    if (isIP(ip) === 0) throw new Error(`ipAddresses[${i}]: ${JSON.stringify(ip)} is not an IP address`);
  });
  const san = new x509.SubjectAlternativeNameExtension([
    ...options.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
  ]);
  return issueLeaf(options, x509.ExtendedKeyUsage.serverAuth, [san]);
}

/** A TLS client certificate (clientAuth), e.g. an mTLS identity for KES. */
export async function issueClientCertificate(options: ClientCertificateOptions): Promise<IssuedCertificate> {
  return issueLeaf(options, x509.ExtendedKeyUsage.clientAuth, []);
}
