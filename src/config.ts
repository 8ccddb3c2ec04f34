// Operator configuration from flags and environment variables: the one module that reads
// process.argv and process.env. A flag wins over its variable, the variable over the default. Values
// are checked with ajv; a bad one stops start-up with a message naming the flag and the variable.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDuration } from './api/duration.ts';
import { defaultKesImage, defaultMinioImage } from './api/index.ts';
import { formats } from './api/schema/formats.ts';
import { DEFAULT_SERVICE_ACCOUNT_TOKEN_PATH } from './vault/session.ts';
import { checkAddress } from './vault/settings.ts';
import { parsePinnedCAFiles, type PinnedCAFile, readPinnedCAs } from './vault/pinned-ca.ts';
import { checkInstanceName, DEFAULT_INSTANCE } from './vault/names.ts';
import { ANY_ADDRESS, DEFAULT_PREFIX_TEMPLATE, INSTANCE_PREFIX_TEMPLATE,
  parsePrefixTemplate } from './vault/tenancy.ts';
import type { KMSDeploymentSettings } from './controllers/kmsdeployment/controller.ts';
import type { RuntimeConfig } from './runtime/manager.ts';

/**
 * Everything the flags and variables set: the runtime's part (RuntimeConfig), the KMSDeployment
 * controller's part (KMSDeploymentSettings) and what main.ts itself reads.
 */
export interface OperatorConfig extends RuntimeConfig, KMSDeploymentSettings {
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  /** Path of a kubeconfig; undefined = in-cluster config or the default loading rules ($KUBECONFIG, ~/.kube/config). */
  kubeconfig: string | undefined;
  /** CA files the administrator pins per listed Vault server, used instead of spec.vault.tls (--vault-ca-files). */
  vaultCAFiles: PinnedCAFile[];
}

type Kind = 'string' | 'integer' | 'boolean' | 'duration' | 'list';

interface Option {
  key: string;
  flag: string;
  env: string;
  kind: Kind;
  default: string;
  help: string;
  /** The description shown instead of the raw pattern when a value does not match. */
  hint?: string;
}

/** Every setting, in the order of docs/runtime.md. */
export const options: readonly Option[] = [
  { key: 'namespaces', flag: 'watch-namespaces', env: 'KMSSTACK_WATCH_NAMESPACES', kind: 'list', default: '',
    help: 'Comma-separated namespaces to watch; empty watches all namespaces.' },
  { key: 'workers', flag: 'workers', env: 'KMSSTACK_WORKERS', kind: 'integer', default: '2',
    help: 'Concurrent reconciles (different KMSDeployments); 1-64.' },
  { key: 'resyncPeriod', flag: 'resync-period', env: 'KMSSTACK_RESYNC_PERIOD', kind: 'duration', default: '10m',
    help: 'Every KMSDeployment is reconciled at least this often; at least 10s.' },
  { key: 'reconcileTimeout', flag: 'reconcile-timeout', env: 'KMSSTACK_RECONCILE_TIMEOUT', kind: 'duration',
    default: '2m',
    help: 'A reconcile still running after this fails and is retried with backoff; its worker moves on; 1s-1h.' },
  {
    key: 'vaultRequestTimeout',
    flag: 'vault-request-timeout',
    env: 'KMSSTACK_VAULT_REQUEST_TIMEOUT',
    kind: 'duration',
    default: '10s',
    help:
      'Deadline of one attempt of a Vault call, connect to last byte (3 attempts per call); a reconcile that takes longer marks its KMSDeployment slow; 1s-5m.',
  },
  { key: 'httpBindAddress', flag: 'http-address', env: 'KMSSTACK_HTTP_ADDRESS', kind: 'string', default: ':8080',
    help: 'host:port of /healthz, /readyz and /metrics (":8080" = all interfaces); "0" disables the server.' },
  {
    key: 'metricsBindAddress',
    flag: 'metrics-bind-address',
    env: 'KMSSTACK_METRICS_BIND_ADDRESS',
    kind: 'string',
    default: '',
    help:
      'host:port of /metrics on a listener of its own (e.g. "127.0.0.1:8443" for an authenticating proxy in the pod); empty serves it with --http-address (no authentication: restrict access with a NetworkPolicy); "0" disables it.',
  },
  { key: 'leaderElect', flag: 'leader-election', env: 'KMSSTACK_LEADER_ELECTION', kind: 'boolean', default: 'true',
    help: 'Only the holder of a coordination.k8s.io Lease reconciles.' },
  { key: 'leaderElectionNamespace', flag: 'leader-election-namespace', env: 'KMSSTACK_LEADER_ELECTION_NAMESPACE',
    kind: 'string', default: '',
    help: 'Namespace of the Lease; default: $POD_NAMESPACE, else the namespace of the in-cluster service account.' },
  { key: 'leaderElectionId', flag: 'leader-election-lease-name', env: 'KMSSTACK_LEADER_ELECTION_LEASE_NAME',
    kind: 'string', default: 'kmsstack-operator', help: 'Name of the Lease.' },
  { key: 'leaderElectionIdentity', flag: 'leader-election-identity', env: 'KMSSTACK_LEADER_ELECTION_IDENTITY',
    kind: 'string', default: '',
    help: 'holderIdentity written to the Lease; default: <$KMSSTACK_POD_NAME or hostname>_<random UUID>.' },
  { key: 'leaseDuration', flag: 'lease-duration', env: 'KMSSTACK_LEASE_DURATION', kind: 'duration', default: '15s',
    help: 'How long a Lease holds without renewal before others may take it.' },
  { key: 'renewDeadline', flag: 'renew-deadline', env: 'KMSSTACK_RENEW_DEADLINE', kind: 'duration', default: '10s',
    help: 'The leader gives up (and stops reconciling) if it cannot renew within this.' },
  { key: 'retryPeriod', flag: 'retry-period', env: 'KMSSTACK_RETRY_PERIOD', kind: 'duration', default: '2s',
    help: 'Interval between acquire/renew attempts.' },
  { key: 'logLevel', flag: 'log-level', env: 'KMSSTACK_LOG_LEVEL', kind: 'string', default: 'info',
    help: 'trace, debug, info, warn, error, fatal or silent.' },
  { key: 'shutdownTimeout', flag: 'shutdown-timeout', env: 'KMSSTACK_SHUTDOWN_TIMEOUT', kind: 'duration',
    default: '30s', help: 'On SIGTERM/SIGINT, how long in-flight reconciles may take to finish.' },
  { key: 'backoffBase', flag: 'backoff-base', env: 'KMSSTACK_BACKOFF_BASE', kind: 'duration', default: '1s',
    help: 'First retry delay of a failed reconcile; doubles per consecutive failure.' },
  { key: 'backoffMax', flag: 'backoff-max', env: 'KMSSTACK_BACKOFF_MAX', kind: 'duration', default: '30s',
    help: 'Cap of the retry delay; a deployment waiting for Vault or KES converges within it of their return.' },
  {
    key: 'instanceName',
    flag: 'instance-name',
    env: 'KMSSTACK_INSTANCE_NAME',
    kind: 'string',
    default: DEFAULT_INSTANCE,
    help:
      'This operator\'s name among all operators that share a Vault (each needs its own): part of every Vault policy and role name and of the default prefix template; 1-32 of a-z, 0-9 and "-".',
  },
  {
    key: 'kvPrefixTemplate',
    flag: 'kv-prefix-template',
    env: 'KMSSTACK_KV_PREFIX_TEMPLATE',
    kind: 'string',
    default: '',
    help:
      `spec.vault.kv.prefix must be this path or lie below it; {namespace} (required), {name} and {instance} are replaced by the KMSDeployment's and the operator's; "*" allows any prefix (one tenant per operator only). Empty: "${DEFAULT_PREFIX_TEMPLATE}" for the instance "${DEFAULT_INSTANCE}", else "${INSTANCE_PREFIX_TEMPLATE}".`,
  },
  {
    key: 'vaultAddresses',
    flag: 'vault-addresses',
    env: 'KMSSTACK_VAULT_ADDRESSES',
    kind: 'list',
    default: '',
    help:
      'Comma-separated Vault servers (scheme://host:port) the operator may contact, with Kubernetes auth (its own ServiceAccount token) and token auth (a token from a Secret the tenant names) alike. Empty: every Vault is refused. "*" lets token auth use any server (one tenant per operator only); Kubernetes auth still needs the server listed by name.',
  },
  {
    key: 'vaultCAFiles',
    flag: 'vault-ca-files',
    env: 'KMSSTACK_VAULT_CA_FILES',
    kind: 'list',
    default: '',
    help:
      'Comma-separated address=path pairs: the CA bundle (PEM file) that must have signed the certificate of that listed Vault server; used instead of spec.vault.tls.caSecretRef. Read at start-up.',
  },
  {
    key: 'vaultTokenPath',
    flag: 'vault-token-path',
    env: 'KMSSTACK_VAULT_TOKEN_PATH',
    kind: 'string',
    default: DEFAULT_SERVICE_ACCOUNT_TOKEN_PATH,
    help:
      'ServiceAccount token file sent to Vault for Kubernetes auth, read at every login; the chart mounts one with the audience "vault" here.',
  },
  {
    key: 'defaultKesImage',
    flag: 'default-kes-image',
    env: 'KMSSTACK_DEFAULT_KES_IMAGE',
    kind: 'string',
    default: defaultKesImage,
    hint: formats.image.hint,
    help:
      'KES image of the KMSDeployments that leave spec.kes.image unset: point it at a mirror, an air-gapped registry or a maintained fork.',
  },
  {
    key: 'defaultMinioImage',
    flag: 'default-minio-image',
    env: 'KMSSTACK_DEFAULT_MINIO_IMAGE',
    kind: 'string',
    default: defaultMinioImage,
    hint: formats.image.hint,
    help:
      'MinIO image of the KMSDeployments that leave spec.minio.image unset: point it at a mirror, an air-gapped registry or a maintained fork.',
  },
  { key: 'kubeconfig', flag: 'kubeconfig', env: 'KUBECONFIG', kind: 'string', default: '',
    help: 'Kubeconfig file; default: in-cluster config, else ~/.kube/config.' },
];

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/** Schema of the parsed (typed) values, keyed like `options`. Durations are milliseconds. */
const schema = {
  type: 'object',
  properties: {
    namespaces: { type: 'array', items: { type: 'string', pattern: DNS_LABEL, maxLength: 63 }, uniqueItems: true },
    workers: { type: 'integer', minimum: 1, maximum: 64 },
    resyncPeriod: { type: 'number', minimum: 10_000 },
    reconcileTimeout: { type: 'number', minimum: 1000, maximum: 3_600_000 },
    vaultRequestTimeout: { type: 'number', minimum: 1000, maximum: 300_000 },
    httpBindAddress: { type: 'string', pattern: '^(0|(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9.-]*):[0-9]{1,5})$' },
    metricsBindAddress: { type: 'string', pattern: '^(|0|(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9.-]*):[0-9]{1,5})$' },
    leaderElect: { type: 'boolean' },
    leaderElectionNamespace: { type: 'string', pattern: `(${DNS_LABEL})|^$`, maxLength: 63 },
    leaderElectionId: { type: 'string', pattern: DNS_SUBDOMAIN, maxLength: 253 },
    leaderElectionIdentity: { type: 'string', maxLength: 253 },
    leaseDuration: { type: 'number', minimum: 1000 },
    renewDeadline: { type: 'number', minimum: 1000 },
    retryPeriod: { type: 'number', minimum: 100 },
    logLevel: { enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] },
    shutdownTimeout: { type: 'number', minimum: 0 },
    backoffBase: { type: 'number', minimum: 1 },
    backoffMax: { type: 'number', minimum: 1 },
    instanceName: { type: 'string', pattern: '^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$' },
    kvPrefixTemplate: { type: 'string' },
    vaultAddresses: { type: 'array', items: { type: 'string' } },
    vaultCAFiles: { type: 'array', items: { type: 'string' } },
    vaultTokenPath: { type: 'string', pattern: '^/' },
    // The same rule as spec.kes.image and spec.minio.image, which these stand in for.
    defaultKesImage: { type: 'string', pattern: formats.image.pattern, maxLength: formats.image.maxLength },
    defaultMinioImage: { type: 'string', pattern: formats.image.pattern, maxLength: formats.image.maxLength },
    kubeconfig: { type: 'string' },
  },
  additionalProperties: false,
} as const;

/** The values after conversion, as the schema guarantees them. */
interface ParsedValues {
  namespaces: string[];
  workers: number;
  resyncPeriod: number;
  reconcileTimeout: number;
  vaultRequestTimeout: number;
  httpBindAddress: string;
  metricsBindAddress: string;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  leaderElectionIdentity: string;
  leaseDuration: number;
  renewDeadline: number;
  retryPeriod: number;
  logLevel: OperatorConfig['logLevel'];
  shutdownTimeout: number;
  backoffBase: number;
  backoffMax: number;
  instanceName: string;
  kvPrefixTemplate: string;
  vaultAddresses: string[];
  vaultCAFiles: string[];
  vaultTokenPath: string;
  defaultKesImage: string;
  defaultMinioImage: string;
  kubeconfig: string;
}

const validateValues = new Ajv({ allErrors: true }).compile(schema);

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface ConfigInput {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  /** Defaults that depend on the machine, passed in so that parseConfig stays pure. */
  hostname: string;
  randomId: string;
  inClusterNamespace: string | undefined;
}

/** The configuration from arguments (without node and script) and environment; throws ConfigError. */
export function parseConfig(input: ConfigInput): OperatorConfig {
  const raw = rawValues(input.argv, input.env);
  const values: Record<string, unknown> = {};
  for (const option of options) values[option.key] = convert(option, raw.get(option.key) ?? option.default);
  if (!validateValues(values)) {
    throw new ConfigError((validateValues.errors ?? []).map((e) => describeError(e, raw)).join('\n'));
  }
  const v = values as unknown as ParsedValues;
  const vaultAddresses = parseSetting('vaultAddresses', () => [
    ...new Set(v.vaultAddresses.map((address) => (address === ANY_ADDRESS ? ANY_ADDRESS : checkAddress(address)))),
  ]);
  const leaderNamespace = v.leaderElectionNamespace || input.env.POD_NAMESPACE || input.inClusterNamespace || '';
  const config: OperatorConfig = {
    namespaces: v.namespaces,
    workers: v.workers,
    resyncPeriodMs: v.resyncPeriod,
    reconcileTimeoutMs: v.reconcileTimeout,
    vaultRequestTimeoutMs: v.vaultRequestTimeout,
    httpBindAddress: parseBindAddress(v.httpBindAddress),
    metricsBindAddress: v.metricsBindAddress === '' ? 'shared' : parseBindAddress(v.metricsBindAddress),
    leaderElection: {
      enabled: v.leaderElect,
      namespace: leaderNamespace,
      leaseName: v.leaderElectionId,
      identity: v.leaderElectionIdentity || `${input.env.KMSSTACK_POD_NAME || input.hostname}_${input.randomId}`,
      leaseDurationMs: v.leaseDuration,
      renewDeadlineMs: v.renewDeadline,
      retryPeriodMs: v.retryPeriod,
    },
    logLevel: v.logLevel,
    shutdownTimeoutMs: v.shutdownTimeout,
    backoff: { baseMs: v.backoffBase, maxMs: v.backoffMax },
    kubeconfig: v.kubeconfig || undefined,
    instanceName: parseSetting('instanceName', () => checkInstanceName(v.instanceName)),
    kvPrefixRule: parseSetting('kvPrefixTemplate', () => parsePrefixTemplate(v.kvPrefixTemplate, v.instanceName)),
    vaultAddresses,
    vaultCAFiles: parseSetting('vaultCAFiles', () => parsePinnedCAFiles(v.vaultCAFiles, vaultAddresses)),
    vaultTokenPath: v.vaultTokenPath,
    defaultImages: { kesImage: v.defaultKesImage, minioImage: v.defaultMinioImage },
  };
  checkRelations(config, raw);
  return config;
}

/** The operator's configuration: parseConfig() of this process's arguments and environment. */
export function loadConfig(): OperatorConfig {
  const namespaceFile = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
  return parseConfig({
    argv: process.argv.slice(2),
    env: process.env,
    hostname: hostname(),
    randomId: randomUUID(),
    inClusterNamespace: existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined,
  });
}

/** The CA files of --vault-ca-files, read once at start-up; an unreadable or empty one stops start-up. */
export function loadPinnedCAs(config: Pick<OperatorConfig, 'vaultCAFiles'>): Map<string, string> {
  return parseSetting('vaultCAFiles', () => readPinnedCAs(config.vaultCAFiles));
}

export function usage(): string {
  const lines = options.map((o) =>
    `  --${o.flag.padEnd(28)} $${o.env.padEnd(36)} ${o.help}${
      o.default ? ` (default ${JSON.stringify(o.default)})` : ''
    }`
  );
  return `Usage: kmsstack-operator [flags]\n\n${lines.join('\n')}\n`;
}

function rawValues(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Map<string, string> {
  // A bare boolean flag (--leader-elect) means true; parseArgs would otherwise want a value.
  const booleanFlags = new Set(options.filter((o) => o.kind === 'boolean').map((o) => `--${o.flag}`));
  const args = argv.map((arg) => (booleanFlags.has(arg) ? `${arg}=true` : arg));
  let parsed: ReturnType<typeof parseArgs>['values'];
  try {
    parsed = parseArgs({
      args,
      options: Object.fromEntries(options.map((o) => [o.flag, { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n\n${usage()}`);
  }
  const raw = new Map<string, string>();
  for (const option of options) {
    const fromFlag = parsed[option.flag];
    const fromEnv = env[option.env];
    if (typeof fromFlag === 'string') raw.set(option.key, fromFlag);
    else if (fromEnv !== undefined && fromEnv !== '') raw.set(option.key, fromEnv);
  }
  return raw;
}

/** Converts text to the option's type; on failure returns the text, which the schema then rejects. */
function convert(option: Option, text: string): unknown {
  switch (option.kind) {
    case 'integer':
      return /^-?\d+$/.test(text.trim()) ? Number(text) : text;
    case 'boolean':
      return { true: true, '1': true, yes: true, false: false, '0': false, no: false }[text.trim().toLowerCase()] ??
        text;
    case 'duration':
      return parseDuration(text.trim()) ?? text;
    case 'list':
      return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
    case 'string':
      return text.trim();
  }
}

function optionFor(key: string): Option {
  return options.find((o) => o.key === key) as Option;
}

function label(option: Option): string {
  return `--${option.flag} (env ${option.env})`;
}

function describeError(error: ErrorObject, raw: Map<string, string>): string {
  const key = error.instancePath.split('/')[1] ?? '';
  const option = optionFor(key);
  const given = raw.get(key) ?? option.default;
  const expected: Record<Kind, string> = {
    integer: 'must be a whole number',
    boolean: 'must be true or false',
    duration: 'must be a duration such as 30s, 5m or 1h30m',
    list: 'must be a comma-separated list of namespace names',
    string: '',
  };
  const hint = (error.keyword === 'pattern' || error.keyword === 'maxLength') && option.hint ? option.hint : undefined;
  const message = error.keyword === 'type' && expected[option.kind]
    ? expected[option.kind]
    : (hint ?? error.message ?? 'is invalid');
  return `invalid ${label(option)}: ${message} (got ${JSON.stringify(given)})`;
}

/** Runs a parser of the setting `key`, turning its error into a ConfigError that names the flag. */
function parseSetting<T>(key: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new ConfigError(
      `invalid ${label(optionFor(key))}: ${(err as Error).message.replace(/^spec\.vault\.address: /, '')}`,
    );
  }
}

function parseBindAddress(text: string): OperatorConfig['httpBindAddress'] {
  if (text === '0') return undefined;
  const colon = text.lastIndexOf(':');
  const host = text.slice(0, colon).replace(/^\[|\]$/g, '') || '0.0.0.0';
  return { host, port: Number(text.slice(colon + 1)) };
}

/** The rules between settings that client-go's leader election and the queue rely on. */
function checkRelations(config: OperatorConfig, raw: Map<string, string>): void {
  const problems: string[] = [];
  const le = config.leaderElection;
  const show = (key: string) => `${label(optionFor(key))} = ${raw.get(key) ?? optionFor(key).default}`;
  if (config.httpBindAddress && config.httpBindAddress.port > 65535) {
    problems.push(`invalid ${show('httpBindAddress')}: port must be at most 65535`);
  }
  const metrics = config.metricsBindAddress;
  if (metrics && metrics !== 'shared') {
    if (metrics.port > 65535) problems.push(`invalid ${show('metricsBindAddress')}: port must be at most 65535`);
    if (config.httpBindAddress && metrics.port === config.httpBindAddress.port && metrics.port !== 0) {
      problems.push(`invalid ${show('metricsBindAddress')}: must use another port than ${show('httpBindAddress')}`);
    }
  }
  if (le.enabled) {
    if (!le.namespace) {
      problems.push(
        `${
          label(optionFor('leaderElectionNamespace'))
        } is required with leader election outside a cluster (or set POD_NAMESPACE)`,
      );
    }
    if (le.leaseDurationMs <= le.renewDeadlineMs) {
      problems.push(`invalid ${show('leaseDuration')}: must be greater than ${show('renewDeadline')}`);
    }
    if (le.renewDeadlineMs <= 1.2 * le.retryPeriodMs) {
      problems.push(`invalid ${show('renewDeadline')}: must be greater than 1.2 x ${show('retryPeriod')}`);
    }
  }
  if (config.backoff.maxMs < config.backoff.baseMs) {
    problems.push(`invalid ${show('backoffMax')}: must not be below ${show('backoffBase')}`);
  }
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
}
