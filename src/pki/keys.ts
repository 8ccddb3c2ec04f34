// Key pairs for the certificates the operator issues, and the import of keys it finds in Secrets.
// Node's KeyObject parses every PEM private-key flavour openssl writes (PKCS#8, SEC1 "EC PRIVATE KEY",
// PKCS#1 "RSA PRIVATE KEY"), so user-supplied CA keys work without any ASN.1 code of our own.
import { createPrivateKey, createPublicKey, type KeyObject, type webcrypto } from 'node:crypto';
import { x509 } from './x509.ts';
import { defaultKeyAlgorithm, type KeyAlgorithm } from './key-algorithms.ts';
import { BoundedMemo } from './memo.ts';

// The project compiles without the DOM library, so WebCrypto types come from Node's typings.
export type CryptoKey = webcrypto.CryptoKey;
type EcKeyImportParams = webcrypto.EcKeyImportParams;
type RsaHashedImportParams = webcrypto.RsaHashedImportParams;
type EcdsaParams = webcrypto.EcdsaParams;

export { defaultKeyAlgorithm, type KeyAlgorithm } from './key-algorithms.ts';

const curveOf: Record<KeyAlgorithm, { namedCurve: string; hash: string }> = {
  'ECDSA-P256': { namedCurve: 'P-256', hash: 'SHA-256' },
  'ECDSA-P384': { namedCurve: 'P-384', hash: 'SHA-384' },
};

/** How WebCrypto imports a key and how @peculiar/x509 signs with it. */
export interface Signer {
  importParams: EcKeyImportParams | RsaHashedImportParams;
  signingAlgorithm: EcdsaParams | RsaHashedImportParams;
}

function ecdsaSigner(namedCurve: string, hash: string): Signer {
  return { importParams: { name: 'ECDSA', namedCurve }, signingAlgorithm: { name: 'ECDSA', hash } };
}

export interface KeyPair {
  algorithm: KeyAlgorithm;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

export async function generateKeyPair(algorithm: KeyAlgorithm = defaultKeyAlgorithm): Promise<KeyPair> {
  const { namedCurve } = curveOf[algorithm];
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve }, true, ['sign', 'verify']);
  return { algorithm, privateKey: pair.privateKey, publicKey: pair.publicKey };
}

/** PKCS#8 PEM ("BEGIN PRIVATE KEY"), with a trailing newline. */
export async function exportPrivateKeyPem(privateKey: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', privateKey);
  return `${x509.PemConverter.encode(der, 'PRIVATE KEY')}\n`;
}

/**
 * Names a key as keyAlgorithms does when it is one of ours ("ECDSA-P256"), otherwise descriptively
 * ("RSA-2048", "ECDSA-P521", "ed25519") so that messages can say what was found.
 */
export function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec':
      if (details.namedCurve === 'prime256v1') return 'ECDSA-P256';
      if (details.namedCurve === 'secp384r1') return 'ECDSA-P384';
      if (details.namedCurve === 'secp521r1') return 'ECDSA-P521';
      return `ECDSA-${details.namedCurve ?? 'unknown-curve'}`;
    case 'rsa':
      return `RSA-${details.modulusLength ?? 'unknown'}`;
    default:
      return key.asymmetricKeyType ?? 'unknown';
  }
}

/** What a reconcile asks of a private key every time: which key it is, and of what kind. */
export interface PrivateKeyFacts {
  /** Names the key pair (see publicKeyIdOf): equal to its certificate's `publicKeyId`. */
  publicKeyId: string;
  /** describeKey's name of it. */
  algorithm: string;
}

/**
 * Facts of keys by their Secret text, and signing keys of CAs by theirs: every reconcile checks the same
 * keys against their certificates. Not the parsed keys themselves: OpenSSL keeps ~2.5 KB for each (18 MiB
 * for the keys of 500 KMSDeployments), so a key is parsed again when it is really needed (a renewal
 * that keeps it); CAs, which sign at every issuance, keep their imported signing key.
 */
const keyFacts = new BoundedMemo<string, PrivateKeyFacts | null>(4096);
const signingKeys = new BoundedMemo<string, Promise<{ privateKey: CryptoKey; signer: Signer } | undefined>>(4096);

/** Parses a PEM private key; undefined when the text is not an unencrypted PEM private key. */
export function parsePrivateKeyPem(pem: string): KeyObject | undefined {
  try {
    const key = createPrivateKey({ key: pem, format: 'pem' });
    return key.type === 'private' ? key : undefined;
  } catch {
    // The library's message can quote input; callers report their own message instead.
    return undefined;
  }
}

/** The facts of a PEM private key; undefined when the text is not an unencrypted PEM private key. */
export function privateKeyFacts(pem: string): PrivateKeyFacts | undefined {
  return keyFacts.get(pem, () => {
    const key = parsePrivateKeyPem(pem);
    return key ? { publicKeyId: publicKeyIdOf(key), algorithm: describeKey(key) } : null;
  }) ?? undefined;
}

/**
 * Names a public key (or the public half of a private one) by its parameters, the same for every
 * encoding of it (an EC point compressed or not): the JWK members, else the SPKI DER.
 */
export function publicKeyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'public' ? key : createPublicKey(key);
  try {
    const { kty, crv, x, y, n, e } = publicKey.export({ format: 'jwk' });
    return [kty, crv, x, y, n, e].join(':');
  } catch {
    return publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  }
}

/** How to sign with a key of this kind, or undefined when the operator cannot sign with it. */
export function signerFor(key: KeyObject): Signer | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve === 'prime256v1') return ecdsaSigner('P-256', 'SHA-256');
    if (details.namedCurve === 'secp384r1') return ecdsaSigner('P-384', 'SHA-384');
    if (details.namedCurve === 'secp521r1') return ecdsaSigner('P-521', 'SHA-512');
    return undefined;
  }
  if (key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048) {
    const rsa = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    return { importParams: rsa, signingAlgorithm: rsa };
  }
  return undefined;
}

export function signerOf(algorithm: KeyAlgorithm): Signer {
  const { namedCurve, hash } = curveOf[algorithm];
  return ecdsaSigner(namedCurve, hash);
}

/** The signing key of a PEM private key; undefined when it does not parse or its kind is not supported (see signerFor). */
export function signingKeyOf(pem: string): Promise<{ privateKey: CryptoKey; signer: Signer } | undefined> {
  return signingKeys.get(pem, () => {
    const key = parsePrivateKeyPem(pem);
    return key ? importForSigning(key) : Promise.resolve(undefined);
  });
}

async function importForSigning(key: KeyObject): Promise<{ privateKey: CryptoKey; signer: Signer } | undefined> {
  const signer = signerFor(key);
  if (!signer) return undefined;
  const der = key.export({ type: 'pkcs8', format: 'der' });
  const privateKey = await crypto.subtle.importKey('pkcs8', der, signer.importParams, true, ['sign']);
  return { privateKey, signer };
}

/** Re-imports a key pair of one of our key types from its PEM private key (renewal without a new identity). */
export async function keyPairFromPrivateKeyPem(pem: string, algorithm: KeyAlgorithm): Promise<KeyPair> {
  const key = parsePrivateKeyPem(pem);
  if (!key) throw new Error('the private key to keep does not parse');
  const { importParams } = signerOf(algorithm);
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return {
    algorithm,
    privateKey: await crypto.subtle.importKey('pkcs8', pkcs8, importParams, true, ['sign']),
    publicKey: await crypto.subtle.importKey('spki', spki, importParams, true, ['verify']),
  };
}
