// Condition reasons and messages for failed KES calls, so every step reports them alike.
import { KesError } from './errors.ts';

const reasons: Record<KesError['reason'], string> = {
  PolicyDenied: 'KESPolicyDenied',
  KeyNotFound: 'KeyNotFound',
  KeyExists: 'KeyExists',
  DecryptionFailed: 'DecryptionFailed',
  BadRequest: 'KESRequestRejected',
  KeystoreError: 'KeystoreError',
  KeystoreUnreachable: 'KeystoreUnreachable',
  Unreachable: 'KESUnreachable',
  UnexpectedResponse: 'KESError',
};

const hints: Partial<Record<KesError['reason'], string>> = {
  PolicyDenied: 'the identity is unknown to KES or its policy does not allow the call (KES may still run an older config)',
  KeystoreError: 'KES could not use Vault: check the AppRole policy, the KV mount and that Vault is unsealed (the KES log names the cause)',
  KeystoreUnreachable: 'KES cannot reach Vault',
  Unreachable: 'KES does not answer',
};

/** Reason and message for a condition, from an error thrown while talking to KES. */
export function kesFailure(err: unknown): { reason: string; message: string } {
  if (!(err instanceof KesError)) return { reason: 'KESError', message: err instanceof Error ? err.message : String(err) };
  const hint = hints[err.reason];
  return { reason: reasons[err.reason], message: hint ? `${err.message}: ${hint}` : err.message };
}
