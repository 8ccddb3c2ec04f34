// KES identifies a client by the hex SHA-256 of the DER SubjectPublicKeyInfo of its certificate (what
// `kes identity of <cert>` prints). It depends only on the public key: renewing a certificate with the
// same key keeps the identity.
import { createHash } from 'node:crypto';
import { x509 } from './x509.ts';

export function kesIdentityOfCertificate(cert: x509.X509Certificate): string {
  return createHash('sha256').update(new Uint8Array(cert.publicKey.rawData)).digest('hex');
}
