// The certificate lifetimes and key type a KMSDeployment asks for (spec.tls), and their checks.
import { defaultKeyAlgorithm, type KeyAlgorithm, keyAlgorithms } from './key-algorithms.ts';

const hour = 3_600_000;

export interface PkiPolicy {
  /** Lifetime of the leaf certificates (spec.tls.validity). */
  validityMs: number;
  /** Leaves are re-issued once less than this remains (spec.tls.renewBefore). */
  renewBeforeMs: number;
  /** Lifetime of the operator's own CA. */
  caValidityMs: number;
  /**
   * The operator starts rotating its CA once less than max(caRenewBeforeMs, validityMs) remains, so
   * that every leaf it signs before the rotation still gets its full validity.
   */
  caRenewBeforeMs: number;
  keyAlgorithm: KeyAlgorithm;
}

/**
 * The policy spec.tls asks for (durations already parsed): the CA the operator generates lives 4
 * times as long as a leaf and is rotated when one leaf lifetime of it remains.
 */
export function pkiPolicyFor(
  tls: { validityMs: number; renewBeforeMs: number; keyAlgorithm?: KeyAlgorithm },
): PkiPolicy {
  return {
    validityMs: tls.validityMs,
    renewBeforeMs: tls.renewBeforeMs,
    caValidityMs: 4 * tls.validityMs,
    caRenewBeforeMs: tls.validityMs,
    keyAlgorithm: tls.keyAlgorithm ?? defaultKeyAlgorithm,
  };
}

/** spec.tls defaults: validity 2160h, renewBefore 720h (CA: 8640h, rotated 2160h before it ends). */
export const defaultPkiPolicy: PkiPolicy = pkiPolicyFor({ validityMs: 2160 * hour, renewBeforeMs: 720 * hour });

/** How long before its expiry the operator's CA is replaced. */
export function caRotationLeadMs(policy: PkiPolicy): number {
  return Math.max(policy.caRenewBeforeMs, policy.validityMs);
}

/** Problems with a policy, each naming its spec field; empty when it is usable. */
export function validatePkiPolicy(policy: PkiPolicy, field = 'spec.tls'): string[] {
  const errors: string[] = [];
  const positive = (value: number, name: string, minimum: number, what: string): boolean => {
    if (Number.isFinite(value) && value >= minimum) return true;
    errors.push(`${field}.${name}: must be at least ${what}`);
    return false;
  };
  if (positive(policy.validityMs, 'validity', hour, '1h') &&
    positive(policy.renewBeforeMs, 'renewBefore', 60_000, '1m'))
  {
    if (policy.renewBeforeMs >= policy.validityMs) {
      errors.push(`${field}.renewBefore: must be shorter than ${field}.validity`);
    }
  }
  if (positive(policy.caValidityMs, 'caValidity', hour, '1h') &&
    positive(policy.caRenewBeforeMs, 'caRenewBefore', 60_000, '1m'))
  {
    if (policy.caValidityMs <= caRotationLeadMs(policy)) {
      errors.push(`${field}.caValidity: must be longer than both ${field}.caRenewBefore and ${field}.validity`);
    }
  }
  if (!keyAlgorithms.includes(policy.keyAlgorithm)) {
    errors.push(`${field}.keyAlgorithm: must be one of ${keyAlgorithms.join(', ')}`);
  }
  return errors;
}
