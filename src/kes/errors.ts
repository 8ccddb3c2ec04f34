// Maps what KES answers (or fails to answer) to a small set of reasons the reconcile can act on and
// report in conditions. KES error bodies are JSON `{"message": "..."}` and never carry key material,
// so their message is safe to repeat; bodies of successful responses are never put into errors.

export type KesErrorReason =
  /** The client identity is unknown to KES or its policy does not allow the path (HTTP 403). */
  | 'PolicyDenied'
  /** The master key does not exist in the keystore (HTTP 404 "key does not exist"). */
  | 'KeyNotFound'
  /** The master key exists already (HTTP 400 "key already exists"); createKey treats it as success. */
  | 'KeyExists'
  /** The ciphertext or its context is not authentic (HTTP 400 "decryption failed ..."). */
  | 'DecryptionFailed'
  /** KES rejected the request as malformed (other HTTP 400), e.g. no client certificate. */
  | 'BadRequest'
  /**
   * KES could not read or write its keystore (HTTP 502): Vault denied the request, is sealed, or
   * failed. KES does not tell these apart in its answer; its own log names the cause.
   */
  | 'KeystoreError'
  /** KES cannot reach its keystore at all (HTTP 504 from /v1/ready). */
  | 'KeystoreUnreachable'
  /** No HTTP answer: connection refused, DNS failure, TLS handshake failure or timeout. */
  | 'Unreachable'
  /** Any other error status (e.g. 500) or an answer that is not what the API documents. */
  | 'UnexpectedResponse';

export class KesError extends Error {
  override readonly name = 'KesError';
  constructor(
    readonly reason: KesErrorReason,
    message: string,
    /** HTTP status of the answer, when there was one. */
    readonly status?: number,
  ) {
    super(message);
  }
}

const maxQuotedMessage = 300;

/** The server's error message from an error body: `message` (KES) or `error` (older servers), else the text. */
export function kesErrorMessage(contentType: string | undefined, body: string): string {
  let message = body.trim();
  if (contentType?.trim().toLowerCase().startsWith('application/json')) {
    try {
      const parsed = JSON.parse(body) as { message?: unknown; error?: unknown };
      if (typeof parsed.error === 'string' && parsed.error !== '') message = parsed.error;
      else if (typeof parsed.message === 'string') message = parsed.message;
    } catch {
      // Not JSON after all: report the raw (truncated) text.
    }
  }
  return message.length > maxQuotedMessage ? `${message.slice(0, maxQuotedMessage)}...` : message;
}

function reasonOf(status: number, message: string): KesErrorReason {
  const lower = message.toLowerCase();
  switch (status) {
    case 403:
      return 'PolicyDenied';
    case 404:
      // A 404 without this message is a route KES does not have (wrong server or version).
      return lower.includes('key does not exist') ? 'KeyNotFound' : 'UnexpectedResponse';
    case 400:
      if (lower.includes('already exist')) return 'KeyExists';
      if (lower.startsWith('decryption failed')) return 'DecryptionFailed';
      return 'BadRequest';
    case 502:
      return 'KeystoreError';
    case 504:
      return 'KeystoreUnreachable';
    default:
      return 'UnexpectedResponse';
  }
}

/** The error for an HTTP answer with status >= 400 to `operation` (e.g. "create key minio-key-1"). */
export function kesErrorFromResponse(operation: string, status: number, contentType: string | undefined,
  body: string): KesError
{
  const message = kesErrorMessage(contentType, body);
  const reason = reasonOf(status, message);
  return new KesError(reason, `KES ${operation}: ${reason} (HTTP ${status}${message ? `: ${message}` : ''})`, status);
}

/** The error for a request to `operation` that got no HTTP answer. */
export function kesErrorFromNetwork(operation: string, cause: unknown): KesError {
  const err = cause as { code?: unknown; message?: unknown };
  const code = typeof err?.code === 'string' ? `${err.code}: ` : '';
  const text = typeof err?.message === 'string' ? err.message : String(cause);
  return new KesError('Unreachable', `KES ${operation}: Unreachable (${code}${text})`);
}
