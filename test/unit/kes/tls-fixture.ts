// Certificates for exercising the KES client over real mTLS on loopback: a CA, a server certificate
// for localhost/127.0.0.1 and client certificates, all ECDSA P-256 made with @peculiar/x509.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, webcrypto, X509Certificate as NodeX509 } from 'node:crypto';
import { KesClient, type KesClientOptions } from '../../../src/kes/client.ts';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as ReturnType<typeof x509.cryptoProvider.get>);

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface Pem {
  cert: string;
  key: string;
}

async function keyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`;
}

const notBefore = new Date(Date.now() - 60_000);
const notAfter = new Date(Date.now() + 24 * 3_600_000);

export async function makeCa(commonName = 'test-ca'): Promise<Pem & { keys: CryptoKeyPair }> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${commonName}`,
    keys,
    notBefore,
    notAfter,
    signingAlgorithm: algorithm,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey), keys };
}

export async function issue(
  ca: { cert: string; keys: CryptoKeyPair },
  commonName: string,
  usage: 'server' | 'client',
): Promise<Pem> {
  const keys = await keyPair();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
  ];
  if (usage === 'server') {
    extensions.push(
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
      ]),
    );
  }
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${commonName}`,
    issuer: new x509.X509Certificate(ca.cert).subject,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    notBefore,
    notAfter,
    signingAlgorithm: algorithm,
    extensions,
  });
  return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey) };
}

/** KES identity of a certificate: hex SHA-256 of its SubjectPublicKeyInfo (DER). */
export function identityOf(certPem: string): string {
  const spki = new NodeX509(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex');
}

/** A CA with KES's server certificate and the operator's client certificate, as the KES client tests use them. */
export async function kesTestPki(): Promise<{ ca: Pem & { keys: CryptoKeyPair }; server: Pem; operator: Pem }> {
  const ca = await makeCa();
  return { ca, server: await issue(ca, 'kes', 'server'), operator: await issue(ca, 'operator', 'client') };
}

/** The KesClients a suite opens, closed together by closeAll() in its after(). */
export class KesClients {
  private readonly opened: KesClient[] = [];

  /** A client of `endpoint` as `identity`, trusting `ca`, for the server name localhost. */
  connect(endpoint: string, identity: Pem, ca: string, extra: Partial<KesClientOptions> = {}): KesClient {
    const client = new KesClient({ endpoint, clientCert: identity.cert, clientKey: identity.key, ca, serverName: 'localhost', ...extra });
    this.opened.push(client);
    return client;
  }

  closeAll(): void {
    for (const client of this.opened) client.close();
  }
}
