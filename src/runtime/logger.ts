// JSON-lines logging with pino. Everything logged passes through redaction: values under
// secret-bearing keys (data, token, secret_id, password, private keys, authorization headers...) at any
// depth, env entries whose name looks secret, bearer tokens and PEM private keys inside strings.
import { type DestinationStream, type LevelWithSilent, type Logger, pino } from 'pino';

export type { Logger };

export const REDACTED = '[REDACTED]';

/** Normalised key names (lower case, no "-", "_", ".") whose values are always secret. */
const SECRET_KEYS = new Set([
  'data',
  'stringdata',
  'binarydata',
  'token',
  'clienttoken',
  'accesstoken',
  'refreshtoken',
  'secretid',
  'secretidaccessor',
  'roleid',
  'password',
  'privatekey',
  'tlskey',
  'key',
  'clientkey',
  'authorization',
  'proxyauthorization',
  'xvaulttoken',
  'cookie',
  'setcookie',
  'apikey',
  'secretkey',
  'secretaccesskey',
  'minioroottpassword',
  'miniorootpassword',
  'miniokmssecretkey',
  'keydata',
  'plaintext',
  'ciphertext',
  'unsealkey',
  'roottoken',
]);
/** Words that make any key secret, unless it names a duration, reference or name of the secret. */
const SECRET_WORDS = ['password', 'privatekey', 'token', 'secretkey', 'passphrase', 'credential'];
const NOT_SECRET_SUFFIXES = ['ttl', 'ref', 'name', 'path', 'expiresat', 'file', 'type', 'reviewer'];

const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const PEM_PRIVATE_KEY = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?(-----END \1PRIVATE KEY-----|$)/g;
/** Vault tokens (hvs./hvb./hvr. and legacy s./b./r.). */
const VAULT_TOKEN = /\b(?:hv[sbr]|[sbr])\.[A-Za-z0-9_-]{20,}/g;
/** JWTs, such as ServiceAccount tokens. */
const JWT = /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

export function isSecretKey(key: string): boolean {
  const normalised = key.toLowerCase().replace(/[-_.]/g, '');
  if (SECRET_KEYS.has(normalised)) return true;
  if (NOT_SECRET_SUFFIXES.some((suffix) => normalised.endsWith(suffix))) return false;
  return SECRET_WORDS.some((word) => normalised.includes(word));
}

/**
 * The one redaction of free text (logs, events, condition messages, Vault error texts): private keys,
 * bearer/basic credentials, Vault tokens and JWTs replaced by `marker`.
 */
export function redactString(text: string, marker = REDACTED): string {
  return text.replace(PEM_PRIVATE_KEY, marker).replace(BEARER, `$1 ${marker}`).replace(VAULT_TOKEN, marker).replace(JWT,
    marker);
}

/** A copy of `value` with every secret replaced by "[REDACTED]". Errors keep their class for pino's serializer. */
export function redactSecrets(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactString(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth > 12) return '[Truncated]';
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (value instanceof Error) {
    const copy = new Error(redactString(value.message));
    copy.name = value.name;
    if (value.stack) copy.stack = redactString(value.stack);
    for (const [key, field] of Object.entries(value)) {
      (copy as unknown as Record<string, unknown>)[key] = isSecretKey(key)
        ? REDACTED
        : redactSecrets(field, depth + 1, seen);
    }
    return copy;
  }
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1, seen));
  if (value instanceof Date || Buffer.isBuffer(value) || ArrayBuffer.isView(value)) {
    return Buffer.isBuffer(value) || ArrayBuffer.isView(value) ? REDACTED : value;
  }
  const out: Record<string, unknown> = {};
  const record = value as Record<string, unknown>;
  // An env entry {name: MINIO_ROOT_PASSWORD, value: ...}: the secret is the value of a secret-named entry.
  const secretEntry = typeof record.name === 'string' && 'value' in record && isSecretKey(record.name);
  for (const [key, field] of Object.entries(record)) {
    out[key] = isSecretKey(key) || (secretEntry && key === 'value') ? REDACTED : redactSecrets(field, depth + 1, seen);
  }
  return out;
}

const BINDING_KEYS = [
  'data',
  'stringData',
  'token',
  'client_token',
  'clientToken',
  'secret_id',
  'secretId',
  'password',
  'privateKey',
  'private_key',
  '["tls.key"]',
  'authorization',
  'Authorization',
  '["x-vault-token"]',
  '["X-Vault-Token"]',
  'headers.authorization',
];
const BINDING_PATHS = [...BINDING_KEYS, ...BINDING_KEYS.map((key) => (key.startsWith('[') ? `*${key}` : `*.${key}`))];

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Where JSON lines go; default stdout. */
  destination?: DestinationStream;
  /** Fields on every line (e.g. the leader election identity). */
  base?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { name: 'kmsstack-operator', ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redactSecrets(object) as Record<string, unknown>,
      },
      // Child logger bindings skip formatters.log; pino's own redaction covers their usual secret keys.
      redact: { paths: BINDING_PATHS, censor: REDACTED },
      hooks: {
        // The message string (and printf-style arguments) are redacted too.
        logMethod(args, method) {
          const cleaned = args.map((arg) => (typeof arg === 'string' ? redactString(arg) : arg));
          return method.apply(this, cleaned as Parameters<typeof method>);
        },
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
