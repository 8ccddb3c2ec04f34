// Reading the TLS material the PKI step stores (keys tls.crt, tls.key, ca.crt) out of Secret objects
// as the cache or the desired children hold them. Values are returned to callers, never logged.

import { decodeSecretValue } from '../runtime/kube/secret-data.ts';

interface SecretView {
  metadata?: { name?: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** The decoded value of `key` in a Secret, or undefined when the Secret or key is missing or empty. */
export function secretValue(secret: unknown, key: string): string | undefined {
  const view = secret as SecretView | undefined;
  const plain = view?.stringData?.[key];
  const text = plain ?? (view?.data?.[key] === undefined ? undefined : decodeSecretValue(view.data[key]));
  return text?.trim() ? text : undefined;
}

export interface ClientTls {
  cert: string;
  key: string;
  ca: string;
}

/** Client certificate, key and CA bundle of a PKI Secret, or what is missing (naming keys, not values). */
export function clientTlsOf(secret: unknown, secretName: string): ClientTls | { missing: string } {
  if (!secret) return { missing: `Secret ${secretName} does not exist yet` };
  const [cert, key, ca] = [secretValue(secret, 'tls.crt'), secretValue(secret, 'tls.key'),
    secretValue(secret, 'ca.crt')];
  const absent = [['tls.crt', cert], ['tls.key', key], ['ca.crt', ca]].filter(([, v]) => v === undefined).map(([k]) =>
    k
  );
  if (!cert || !key || !ca) return { missing: `Secret ${secretName} has no ${absent.join(', ')} yet` };
  return { cert, key, ca };
}

/** A stable text of a Secret's data for checksums (sorted keys; values as stored, base64). */
export function secretDataText(secret: unknown): string {
  const data = (secret as SecretView | undefined)?.data ?? {};
  return Object.keys(data)
    .sort()
    .map((key) => `${key}=${data[key]}`)
    .join('\n');
}
