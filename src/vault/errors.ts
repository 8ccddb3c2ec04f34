// Failures of Vault calls as typed reasons a user can act on. The raw errors of node-vault/axios
// carry the request configuration, X-Vault-Token header included, so they are never kept, logged
// or chained: only the status, Vault's own error text (redacted) and a network error code survive.
import { redactString } from '../runtime/logger.ts';
import { VaultLimitError } from './transport.ts';

export type VaultFailureReason =
  | 'AuthFailed' // login refused, or the operator's token is invalid/expired
  | 'PermissionDenied' // logged in, but the operator's policy does not allow the call
  | 'Unreachable' // connection refused/reset, DNS, timeout, TLS verification
  | 'Sealed' // Vault answers 503 because it is sealed
  | 'NotFound'
  | 'InvalidRequest' // other 4xx: Vault rejected what was sent
  | 'ServerError' // other 5xx
  | 'RedirectRefused'; // a 3xx: never followed, since it would carry the token (or login body) elsewhere

export class VaultRequestError extends Error {
  override readonly name = 'VaultRequestError';
  constructor(
    readonly reason: VaultFailureReason,
    readonly operation: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }

  /** Whether another attempt within the same call may succeed: network trouble or a 5xx that is not a seal. */
  get retryable(): boolean {
    return this.reason === 'Unreachable' || this.reason === 'ServerError';
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'ERR_NETWORK',
  'ETIMEOUT',
  'UND_ERR_SOCKET',
]);

// OpenSSL/Node verification codes: the server was reached but its certificate was not trusted.
const TLS_CODE_RE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;

/** `text` with every known secret and anything shaped like a token replaced by "[redacted]". */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  out = redactString(out, '[redacted]');
  return out.length > 300 ? `${out.slice(0, 300)}…` : out;
}

interface RawFailure {
  status?: number;
  vaultErrors: string[];
  code?: string;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/** Pulls status, Vault's error strings and the network code out of whatever node-vault threw. */
export function rawFailure(err: unknown): RawFailure {
  const response = field(err, 'response');
  const status = field(response, 'statusCode') ?? field(response, 'status');
  const body = field(response, 'body') ?? field(response, 'data');
  const errors = field(body, 'errors');
  const code = field(err, 'code') ?? field(field(err, 'cause'), 'code');
  return {
    status: typeof status === 'number' ? status : undefined,
    vaultErrors: Array.isArray(errors) ? errors.map(String) : [],
    code: typeof code === 'string' ? code : undefined,
  };
}

export interface FailureContext {
  /** What was attempted, e.g. "read policy kmsstack-a-b"; must not contain secrets. */
  operation: string;
  /** A login call: every 4xx means the credentials were refused. */
  login?: boolean;
  /** Secret values the message must never show (token, secret-id, JWT). */
  secrets?: readonly string[];
}

/** The typed failure for anything a Vault call threw. */
export function classifyVaultFailure(err: unknown, context: FailureContext): VaultRequestError {
  if (err instanceof VaultRequestError) return err;
  if (err instanceof VaultLimitError) {
    // A deadline may pass by itself (a slow network); an oversized or compressed answer will not, but is rare.
    return new VaultRequestError(err.limit === 'deadline' ? 'Unreachable' : 'ServerError', context.operation,
      `${context.operation}: ${err.message}`);
  }
  const { status, vaultErrors, code } = rawFailure(err);
  const detail = redact(vaultErrors.join('; ').replace(/\s+/g, ' ').trim(), context.secrets);
  const make = (reason: VaultFailureReason, message: string) =>
    new VaultRequestError(reason, context.operation, `${context.operation}: ${message}`, status);

  if (status === undefined) {
    if (code && TLS_CODE_RE.test(code)) {
      return make('Unreachable', `TLS verification of the Vault server failed (${code}); check spec.vault.tls`);
    }
    if (code && NETWORK_CODES.has(code)) return make('Unreachable', `Vault is unreachable (${code})`);
    const message = err instanceof Error ? redact(err.message, context.secrets) : 'unknown error';
    return make('Unreachable', `request failed before Vault answered (${code ?? message})`);
  }
  const said = detail ? `: ${detail}` : '';
  if (status >= 300 && status < 400) {
    return make('RedirectRefused',
      `Vault answered ${status}, a redirect; the operator never follows redirects, so no credential went to the address it named (point spec.vault.address at the Vault server itself)`);
  }
  if (status === 503 && /sealed/i.test(detail)) return make('Sealed', 'Vault is sealed; unseal it to continue');
  if (status >= 500) return make('ServerError', `Vault answered ${status}${said}`);
  if (context.login) return make('AuthFailed', `login refused (${status})${said}`);
  if (/invalid token|token (?:is )?expired|bad token/i.test(detail)) {
    return make('AuthFailed', `the operator's Vault token was refused${said}`);
  }
  if (status === 401) return make('AuthFailed', `the operator's Vault token was refused${said}`);
  if (status === 403) {
    return make('PermissionDenied',
      `permission denied; the operator's Vault policy must allow this (see docs/vault.md)`);
  }
  if (status === 404) return make('NotFound', `not found${said}`);
  return make('InvalidRequest', `Vault answered ${status}${said}`);
}
