// Key pairs for the certificates the operator issues, and the import of keys it finds in Secrets.
// Node's KeyObject parses every PEM private-key flavour openssl writes (PKCS#8, SEC1 "EC PRIVATE KEY",
// PKCS#1 "RSA PRIVATE KEY"), so user-supplied CA keys work without any ASN.1 code of our own.
import { createPrivateKey, createPublicKey, type KeyObject, type webcrypto } from 'node:crypto';
import { x509 } from './x509.ts';
import { defaultKeyAlgorithm, type KeyAlgorithm, keyAlgorithms } from './key-algorithms.ts';
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

/**
 * Keys by their Secret text: every reconcile checks the same keys against their certificates. The memo
 * holds nothing the informer cache does not already hold (the Secrets' text), in the same process.
 */
const parsedKeys = new BoundedMemo<string, KeyObject | null>(4096);
const publicHalves = new WeakMap<KeyObject, KeyObject>();
const signingKeys = new WeakMap<KeyObject, Promise<{ privateKey: CryptoKey; signer: Signer } | undefined>>();

/** Parses a PEM private key; undefined when the text is not an unencrypted PEM private key. */
export function parsePrivateKeyPem(pem: string): KeyObject | undefined {
  return parsedKeys.get(pem, () => {
    try {
      const key = createPrivateKey({ key: pem, format: 'pem' });
      return key.type === 'private' ? key : null;
    } catch {
      // The library's message can quote input; callers report their own message instead.
      return null;
    }
  }) ?? undefined;
}

/** The public half of a private key (derived once per parsed key). */
export function publicKeyOf(privateKey: KeyObject): KeyObject {
  let publicKey = publicHalves.get(privateKey);
  if (!publicKey) {
    publicKey = createPublicKey(privateKey);
    publicHalves.set(privateKey, publicKey);
  }
  return publicKey;
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

/** Imports a parsed private key for signing; undefined when its kind is not supported (see signerFor). */
export function toSigningKey(key: KeyObject): Promise<{ privateKey: CryptoKey; signer: Signer } | undefined> {
  let signing = signingKeys.get(key);
  if (!signing) {
    signing = importForSigning(key);
    signingKeys.set(key, signing);
  }
  return signing;
}

async function importForSigning(key: KeyObject): Promise<{ privateKey: CryptoKey; signer: Signer } | undefined> {
  const signer = signerFor(key);
  if (!signer) return undefined;
  const der = key.export({ type: 'pkcs8', format: 'der' });
  const privateKey = await crypto.subtle.importKey('pkcs8', der, signer.importParams, true, ['sign']);
  return { privateKey, signer };
}

/** Re-imports a key pair of one of our key types from its private key (renewal without a new identity). */
export async function keyPairFromPrivateKey(key: KeyObject, algorithm: KeyAlgorithm): Promise<KeyPair> {
  const { importParams } = signerOf(algorithm);
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return {
    algorithm,
    privateKey: await crypto.subtle.importKey('pkcs8', pkcs8, importParams, true, ['sign']),
    publicKey: await crypto.subtle.importKey('spki', spki, importParams, true, ['verify']),
  };
}

/** The spec key type a parsed key is, if it is one of ours. */
export function keyAlgorithmOf(key: KeyObject): KeyAlgorithm | undefined {
  const name = describeKey(key);
  return (keyAlgorithms as readonly string[]).includes(name) ? (name as KeyAlgorithm) : undefined;
}
