// PEM text in and out. Messages never quote the input: a Secret field may hold a private key by mistake.
import { x509 } from './x509.ts';

export class PemError extends Error {
  override name = 'PemError';
}

/** DER bodies of the PEM blocks of one type ("CERTIFICATE"), in order; other blocks are ignored. */
export function pemBlocks(text: string, type: string): ArrayBuffer[] {
  let structs: ReturnType<typeof x509.PemConverter.decodeWithHeaders>;
  try {
    structs = x509.PemConverter.decodeWithHeaders(text);
  } catch {
    throw new PemError('is not valid PEM');
  }
  return structs.filter((s) => s.type === type).map((s) => s.rawData);
}

export function firstCertificateDer(text: string): ArrayBuffer {
  const [first] = pemBlocks(text, 'CERTIFICATE');
  if (!first) throw new PemError('holds no PEM "CERTIFICATE" block');
  return first;
}

/** One certificate as PEM with a trailing newline; bundles are these concatenated. */
export function certificatePem(der: ArrayBuffer): string {
  return `${x509.PemConverter.encode(der, 'CERTIFICATE')}\n`;
}
