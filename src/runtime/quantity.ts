// Kubernetes resource quantities ("500m", "1Gi", "1e3") as exact rationals, so that a quantity the API
// server rewrote into canonical form ("1024Mi" -> "1Gi", "0.5" -> "500m") still compares equal.

export interface Rational {
  numerator: bigint;
  denominator: bigint;
}

const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/** The exact value of a quantity string, or undefined if it is not one. */
export function parseQuantity(text: string): Rational | undefined {
  const match = QUANTITY.exec(text.trim());
  if (!match) return undefined;
  const [, sign = '', number = '', suffix = ''] = match;
  const [whole = '', fraction = ''] = number.split('.');
  let numerator = BigInt(`${whole}${fraction}` || '0') * (sign === '-' ? -1n : 1n);
  let denominator = 10n ** BigInt(fraction.length);
  let exponent10 = 0;
  if (suffix in BINARY) numerator *= 2n ** BigInt(BINARY[suffix] as number);
  else if (suffix in DECIMAL) exponent10 = DECIMAL[suffix] as number;
  else if (suffix) exponent10 = Number(suffix.slice(1));
  if (Math.abs(exponent10) > 100) return undefined;
  if (exponent10 >= 0) numerator *= 10n ** BigInt(exponent10);
  else denominator *= 10n ** BigInt(-exponent10);
  return { numerator, denominator };
}

export function quantitiesEqual(a: string, b: string): boolean {
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  return x !== undefined && y !== undefined && x.numerator * y.denominator === y.numerator * x.denominator;
}

/** Negative when a < b, 0 when equal, positive when a > b; undefined if either is not a quantity. */
export function compareQuantities(a: string, b: string): number | undefined {
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  if (x === undefined || y === undefined) return undefined;
  const difference = x.numerator * y.denominator - y.numerator * x.denominator;
  return difference === 0n ? 0 : difference < 0n ? -1 : 1;
}
