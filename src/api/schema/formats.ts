// String formats used across the API. Patterns must be valid in both RE2 (the API server) and
// ECMAScript with the `u` flag (ajv), so no lookarounds or backreferences. Each pattern has a hint
// that validate() shows instead of the raw regular expression.
import type { JSONSchema } from './json-schema.ts';

interface Format {
  pattern: string;
  maxLength: number;
  minLength?: number;
  hint: string;
}

function format(pattern: string, maxLength: number, hint: string, minLength?: number): Format {
  return minLength === undefined ? { pattern, maxLength, hint } : { pattern, maxLength, hint, minLength };
}

const dnsLabel = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';

export const formats = {
  /** Go duration with integer amounts, e.g. 5m, 1h30m, 20s; also what CEL's duration() parses. */
  duration: format('^([0-9]+(ns|us|ms|s|m|h))+$', 32,
    'must be a duration such as "20s", "5m", "1h30m" or "2160h" (units: h, m, s, ms, us, ns)'),
  dns1123Subdomain: format(
    `^${dnsLabel}(\\.${dnsLabel})*$`,
    253,
    'must be a DNS-1123 subdomain: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit',
  ),
  /** Name of the KMSDeployment itself: child Services and StatefulSets are named after it. */
  objectName: format(
    '^[a-z]([-a-z0-9]*[a-z0-9])?$',
    40,
    'must be a DNS-1035 label of at most 40 characters: lowercase letters, digits and "-", starting with a letter and ending with a letter or digit',
  ),
  secretKey: format('^[-._a-zA-Z0-9]+$', 253, 'must be a Secret data key: letters, digits, "-", "_" and "."'),
  keyName: format(
    // KES's own key-name rule, slightly stricter (no leading "_"): KES refuses "." and a trailing "-".
    '^[A-Za-z0-9]([A-Za-z0-9_-]*[A-Za-z0-9_])?$',
    80,
    'must be 1 to 80 characters of letters, digits, "-" and "_", starting with a letter or digit and not ending with "-" (the names KES accepts)',
  ),
  /** Vault mount paths and the KV prefix: the same rules, so one pattern (and one hint) serves both. */
  vaultPath: format(
    '^[A-Za-z0-9_-][A-Za-z0-9_.-]*(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*$',
    200,
    'must be a path such as "kv" or "minio/tenant-a": segments of letters, digits, "-", "_" and "." (not starting with "."), separated by "/", without a leading or trailing "/"',
  ),
  vaultName: format('^[A-Za-z0-9_.-]+$', 128, 'must be letters, digits, "-", "_" and "."'),
  vaultNamespace: format(
    '^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$',
    200,
    'must be a Vault namespace path such as "admin" or "admin/team-a", without a leading or trailing "/"',
  ),
  serverName: format(
    '^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$',
    253,
    'must be a host name such as "vault.example.com"',
  ),
  httpUrl: format(
    '^https?://[^\\s/?#@]+(/[^\\s?#]*)?$',
    512,
    'must be an http:// or https:// URL such as "https://vault.vault.svc:8200" (no query, fragment or user info)',
  ),
  image: format(
    '^[a-z0-9]+([._-]+[a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$',
    512,
    'must be an image reference such as "registry.example.com/minio/kes:2025-03-12T09-35-18Z" or "repo/image@sha256:<64 hex digits>"',
  ),
  /** S3 bucket names (AWS's rules, which MinIO enforces); the CEL rules of spec.minio.buckets add what a pattern cannot say. */
  bucketName: format(
    '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$',
    63,
    'must be an S3 bucket name: 3 to 63 lowercase letters, digits, "." and "-", starting and ending with a letter or digit',
  ),
  quantity: format(
    '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$',
    64,
    'must be a quantity such as "10Gi", "500Mi" or "1Ti"',
  ),
} satisfies Record<string, Format>;

export type FormatName = keyof typeof formats;

/** Schema fragment for a string of the named format. */
export function formatted(name: FormatName): Pick<JSONSchema, 'pattern' | 'maxLength' | 'minLength'> {
  const f: Format = formats[name];
  return f.minLength === undefined
    ? { pattern: f.pattern, maxLength: f.maxLength }
    : { pattern: f.pattern, maxLength: f.maxLength, minLength: f.minLength };
}

/** The human hint for a pattern, or undefined for a pattern not declared here. */
export function hintForPattern(pattern: string): string | undefined {
  return Object.values(formats).find((f: Format) => f.pattern === pattern)?.hint;
}
