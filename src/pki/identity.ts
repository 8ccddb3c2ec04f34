// KES identifies a client by the hex SHA-256 of the DER SubjectPublicKeyInfo of its certificate (what
// `kes identity of <cert>` prints). It depends only on the public key: renewing a certificate with the
// same key keeps the identity.
import { createHash } from 'node:crypto';
import { x509 } from './x509.ts';
import { firstCertificateDer } from './pem.ts';
import { BoundedMemo } from './memo.ts';

export function kesIdentityOfCertificate(cert: x509.X509Certificate): string {
  return createHash('sha256').update(new Uint8Array(cert.publicKey.rawData)).digest('hex');
}

/** Identities by certificate text: every reconcile of the KES step asks again for the same two. */
const identities = new BoundedMemo<string, string>(4096);

/** The KES identity of the first certificate in a PEM text; throws PemError when there is none. */
export function kesIdentity(certPem: string): string {
  return identities.get(certPem,
    () => kesIdentityOfCertificate(new x509.X509Certificate(firstCertificateDer(certPem))));
}
