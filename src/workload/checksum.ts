// The one checksum of the operator's pod templates: what the pods read at start-up, hashed so that a
// change of any part rolls the pods.
import { createHash } from 'node:crypto';

/** Hex SHA-256 over `parts` in order, each length-prefixed so that boundaries cannot shift. */
export function checksumOf(parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${Buffer.byteLength(part)}:`).update(part);
  return hash.digest('hex');
}
