// The one encoding of a Secret's `data`: base64 of UTF-8 text, keys in sorted order (so that a
// server-side apply of the same values is the same request). Values are returned, never logged.

/** A Secret's `data` map from plain-text values, keys sorted. */
export function encodeSecretData(values: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.keys(values)
      .sort()
      .map((key) => [key, Buffer.from(values[key] as string, 'utf8').toString('base64')]),
  );
}

/** One base64 value of a Secret's `data` as text. */
export function decodeSecretValue(value: string): string {
  return Buffer.from(value, 'base64').toString('utf8');
}

/** A Secret's `data` (base64 values) as text; undefined for none. */
export function decodeSecretData(
  data: Readonly<Record<string, string>> | undefined,
): Record<string, string> | undefined {
  if (!data) return undefined;
  return Object.fromEntries(Object.entries(data).map(([key, value]) => [key, decodeSecretValue(value)]));
}

/** An Opaque Secret with `metadata` and `data` (base64 values, as encodeSecretData gives them). */
export function opaqueSecret<M>(metadata: M,
  data: Record<string, string>
): { apiVersion: 'v1'; kind: 'Secret'; metadata: M; type: 'Opaque'; data: Record<string, string> } {
  return { apiVersion: 'v1', kind: 'Secret', metadata, type: 'Opaque', data };
}
