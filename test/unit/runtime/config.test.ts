import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultKesImage, defaultMinioImage, operatorDefaultsOf, specSchema } from '../../../src/api/index.ts';
import { ConfigError, loadPinnedCAs, options, parseConfig, type ConfigInput } from '../../../src/config.ts';

const base: ConfigInput = { argv: [], env: {}, hostname: 'host-1', randomId: 'abc', inClusterNamespace: 'operators' };
const parse = (argv: string[], env: Record<string, string> = {}, extra: Partial<ConfigInput> = {}) => parseConfig({ ...base, ...extra, argv, env });

function rejects(argv: string[], env: Record<string, string>, pattern: RegExp): void {
  assert.throws(() => parse(argv, env), (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('config', () => {
  it('has client-go compatible defaults', () => {
    const config = parse([]);
    assert.deepEqual(config.namespaces, []);
    assert.equal(config.workers, 2);
    assert.equal(config.resyncPeriodMs, 600_000);
    assert.deepEqual(config.httpBindAddress, { host: '0.0.0.0', port: 8080 });
    assert.deepEqual(config.leaderElection, {
      enabled: true, namespace: 'operators', leaseName: 'kmsstack-operator', identity: 'host-1_abc',
      leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000,
    });
    assert.equal(config.logLevel, 'info');
    assert.equal(config.kubeconfig, undefined);
    assert.deepEqual(config.kvPrefixRule, { kind: 'template', template: 'kmsstack/{namespace}', segments: ['kmsstack', '{namespace}'] });
    assert.deepEqual(config.vaultAddresses, []);
  });

  it('reads the allowed Vault servers as origins, and names the flag when one is not a URL', () => {
    assert.deepEqual(parse(['--vault-addresses', 'https://vault.vault.svc:8200/, http://127.0.0.1:8200']).vaultAddresses, ['https://vault.vault.svc:8200', 'http://127.0.0.1:8200']);
    assert.deepEqual(parse([], { KMSSTACK_VAULT_ADDRESSES: 'https://a:8200,https://a:8200' }).vaultAddresses, ['https://a:8200']);
    rejects(['--vault-addresses=vault:8200'], {}, /invalid --vault-addresses \(env KMSSTACK_VAULT_ADDRESSES\): .*scheme must be https/);
    rejects([], { KMSSTACK_VAULT_ADDRESSES: 'https://a:8200/v1' }, /invalid --vault-addresses .*give only scheme, host and port/);
    assert.deepEqual(parse(['--vault-addresses', '*, https://a:8200']).vaultAddresses, ['*', 'https://a:8200'], '"*" is kept as the any-address entry');
  });

  it('reads pinned Vault CA files per listed address, and names the flag when an entry is wrong', () => {
    assert.deepEqual(parse([]).vaultCAFiles, []);
    const listed = ['--vault-addresses', 'https://vault.vault.svc:8200/'];
    assert.deepEqual(parse([...listed, '--vault-ca-files', 'https://vault.vault.svc:8200=/etc/kmsstack/vault-ca/ca-0.pem']).vaultCAFiles, [
      { address: 'https://vault.vault.svc:8200', path: '/etc/kmsstack/vault-ca/ca-0.pem' },
    ]);
    rejects([...listed, '--vault-ca-files', 'https://other:8200=/ca.pem'], {}, /invalid --vault-ca-files \(env KMSSTACK_VAULT_CA_FILES\): https:\/\/other:8200 is not in --vault-addresses/);
    rejects([...listed, '--vault-ca-files', '/ca.pem'], {}, /invalid --vault-ca-files .*each entry is address=path/);
    rejects([...listed, '--vault-ca-files', 'https://vault.vault.svc:8200=ca.pem'], {}, /must be an absolute path/);
    rejects(['--vault-addresses', 'http://v:8200', '--vault-ca-files', 'http://v:8200=/ca.pem'], {}, /only matters for an https address/);
    assert.throws(() => loadPinnedCAs({ vaultCAFiles: [{ address: 'https://v:8200', path: '/nonexistent/ca.pem' }] }), /invalid --vault-ca-files .*\/nonexistent\/ca\.pem for https:\/\/v:8200 cannot be read \(ENOENT\)/);
  });

  it('reads the KV prefix template from the flag or the variable, and names it when it is bad', () => {
    assert.deepEqual(parse(['--kv-prefix-template=tenants/{namespace}/{name}']).kvPrefixRule, { kind: 'template', template: 'tenants/{namespace}/{name}', segments: ['tenants', '{namespace}', '{name}'] });
    assert.deepEqual(parse([], { KMSSTACK_KV_PREFIX_TEMPLATE: '*' }).kvPrefixRule, { kind: 'any' });
    rejects(['--kv-prefix-template=minio'], {}, /invalid --kv-prefix-template \(env KMSSTACK_KV_PREFIX_TEMPLATE\): must contain the segment \{namespace\}/);
    rejects([], { KMSSTACK_KV_PREFIX_TEMPLATE: 'kv/ns-{namespace}' }, /--kv-prefix-template .*placeholders must be whole segments/);
  });

  it('the instance name scopes the default prefix template and is checked', () => {
    assert.equal(parse([]).instanceName, 'default');
    assert.deepEqual(parse([]).kvPrefixRule, { kind: 'template', template: 'kmsstack/{namespace}', segments: ['kmsstack', '{namespace}'] });
    const staging = parse(['--instance-name=staging']);
    assert.deepEqual(staging.kvPrefixRule, { kind: 'template', template: 'kmsstack-instances/{instance}/{namespace}', segments: ['kmsstack-instances', 'staging', '{namespace}'] });
    assert.deepEqual(parse([], { KMSSTACK_INSTANCE_NAME: 'prod', KMSSTACK_KV_PREFIX_TEMPLATE: 't/{instance}/{namespace}' }).kvPrefixRule.kind, 'template');
    for (const bad of ['Prod', 'a_b', 'a.b', '-a', 'a'.repeat(33), '']) rejects([`--instance-name=${bad}`], {}, /--instance-name/);
  });

  it('reads flags before environment variables', () => {
    const config = parse(['--workers', '8', '--watch-namespaces=a,b', '--leader-election=false', '--http-address', '127.0.0.1:0'], {
      KMSSTACK_WORKERS: '3', KMSSTACK_LOG_LEVEL: 'debug', KMSSTACK_RESYNC_PERIOD: '1h30m',
    });
    assert.equal(config.workers, 8);
    assert.deepEqual(config.namespaces, ['a', 'b']);
    assert.equal(config.leaderElection.enabled, false);
    assert.deepEqual(config.httpBindAddress, { host: '127.0.0.1', port: 0 });
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.resyncPeriodMs, 5_400_000);
  });

  it('takes a bare boolean flag as true and "0" as no HTTP server', () => {
    const config = parse(['--leader-election', '--http-address=0'], { KMSSTACK_LEADER_ELECTION: 'false' });
    assert.equal(config.leaderElection.enabled, true);
    assert.equal(config.httpBindAddress, undefined);
  });

  it('serves /metrics with the health endpoints by default, on its own address, or not at all', () => {
    assert.equal(parse([]).metricsBindAddress, 'shared');
    assert.deepEqual(parse(['--metrics-bind-address', '127.0.0.1:8443']).metricsBindAddress, { host: '127.0.0.1', port: 8443 });
    assert.deepEqual(parse([], { KMSSTACK_METRICS_BIND_ADDRESS: '[::1]:9090' }).metricsBindAddress, { host: '::1', port: 9090 });
    assert.equal(parse(['--metrics-bind-address', '0']).metricsBindAddress, undefined);
    rejects(['--metrics-bind-address', ':8080'], {}, /invalid --metrics-bind-address \(env KMSSTACK_METRICS_BIND_ADDRESS\) = :8080: must use another port than --http-address/);
    rejects(['--metrics-bind-address', 'localhost'], {}, /--metrics-bind-address/);
  });

  it('reads the reconcile and Vault request deadlines', () => {
    assert.equal(parse([]).reconcileTimeoutMs, 120_000);
    assert.equal(parse([]).vaultRequestTimeoutMs, 10_000);
    const config = parse(['--reconcile-timeout', '30s', '--vault-request-timeout', '2s']);
    assert.deepEqual([config.reconcileTimeoutMs, config.vaultRequestTimeoutMs], [30_000, 2_000]);
    rejects(['--vault-request-timeout', '10ms'], {}, /--vault-request-timeout/);
  });

  it('names the flag and the variable of a bad value', () => {
    rejects(['--workers', 'many'], {}, /invalid --workers \(env KMSSTACK_WORKERS\): must be a whole number \(got "many"\)/);
    rejects([], { KMSSTACK_WORKERS: '0' }, /--workers .*must be >= 1 \(got "0"\)/);
    rejects(['--resync-period', '10 minutes'], {}, /--resync-period .*must be a duration/);
    rejects(['--log-level', 'loud'], {}, /--log-level .*must be equal to one of the allowed values/);
    rejects(['--watch-namespaces', 'Bad_NS'], {}, /--watch-namespaces \(env KMSSTACK_WATCH_NAMESPACES\)/);
    rejects(['--leader-election=maybe'], {}, /--leader-election .*must be true or false/);
    rejects(['--http-address', 'localhost'], {}, /--http-address/);
  });

  it('reports every bad value at once', () => {
    rejects(['--workers', '100', '--log-level', 'x'], {}, /--workers[\s\S]*--log-level/);
  });

  it('defaults the images to the built-in ones; a flag wins over its variable, and an empty variable is unset', () => {
    assert.deepEqual(parse([]).defaultImages, { kesImage: defaultKesImage, minioImage: defaultMinioImage });
    const mirrored = parse(['--default-kes-image', 'registry.corp:5000/mirror/kes:2025-03-12T09-35-18Z'], {
      KMSSTACK_DEFAULT_KES_IMAGE: 'ignored.example/kes:1',
      KMSSTACK_DEFAULT_MINIO_IMAGE: 'registry.corp:5000/fork/minio@sha256:' + 'a'.repeat(64),
    });
    assert.deepEqual(mirrored.defaultImages, {
      kesImage: 'registry.corp:5000/mirror/kes:2025-03-12T09-35-18Z',
      minioImage: 'registry.corp:5000/fork/minio@sha256:' + 'a'.repeat(64),
    });
    assert.equal(parse([], { KMSSTACK_DEFAULT_MINIO_IMAGE: '' }).defaultImages.minioImage, defaultMinioImage);
  });

  it('refuses a default image that is not an image reference, with the rule of spec.kes.image', () => {
    rejects(['--default-kes-image', 'Registry.Example/KES:latest'], {}, /invalid --default-kes-image \(env KMSSTACK_DEFAULT_KES_IMAGE\): must be an image reference such as .* \(got "Registry\.Example\/KES:latest"\)/);
    rejects([], { KMSSTACK_DEFAULT_MINIO_IMAGE: 'minio minio' }, /invalid --default-minio-image \(env KMSSTACK_DEFAULT_MINIO_IMAGE\): must be an image reference/);
  });

  it('has a flag for every operator default the spec schema declares', () => {
    const flags = new Set(options.map((o) => `--${o.flag}`));
    const declared = operatorDefaultsOf(specSchema, 'spec');
    assert.deepEqual(declared.map((d) => d.path), ['spec.kes.image', 'spec.minio.image']);
    for (const entry of declared) {
      assert.ok(flags.has(entry.flag), `${entry.path} names ${entry.flag}, which the operator does not read`);
      assert.equal(options.find((o) => `--${o.flag}` === entry.flag)?.default, entry.value, `${entry.flag} defaults to the built-in value of ${entry.path}`);
    }
  });

  it('rejects unknown flags with the usage', () => {
    rejects(['--wrokers', '2'], {}, /Unknown option '--wrokers'[\s\S]*Usage/);
  });

  it('enforces the leader election timing rules of client-go', () => {
    rejects(['--lease-duration', '10s', '--renew-deadline', '10s'], {}, /--lease-duration .* must be greater than --renew-deadline/);
    rejects(['--renew-deadline', '2s', '--retry-period', '2s', '--lease-duration', '15s'], {}, /--renew-deadline .* 1\.2 x --retry-period/);
    assert.equal(parse(['--leader-election=false', '--lease-duration', '1s']).leaderElection.enabled, false);
  });

  it('uses the pod name for the default identity', () => {
    assert.equal(parse([], { KMSSTACK_POD_NAME: 'op-7d9f' }).leaderElection.identity, 'op-7d9f_abc');
  });

  it('needs a lease namespace outside a cluster, unless POD_NAMESPACE is set', () => {
    assert.throws(() => parseConfig({ ...base, inClusterNamespace: undefined }), /--leader-election-namespace .* is required/);
    assert.equal(parseConfig({ ...base, inClusterNamespace: undefined, env: { POD_NAMESPACE: 'p' } }).leaderElection.namespace, 'p');
  });
});

describe('docs/runtime.md', () => {
  it('documents every flag with its variable', async () => {
    const { readFileSync } = await import('node:fs');
    const { options } = await import('../../../src/config.ts');
    const docs = readFileSync(new URL('../../../docs/runtime.md', import.meta.url), 'utf8');
    for (const option of options) {
      assert.ok(docs.includes(`| \`--${option.flag}\` | \`${option.env}\` |`), `docs/runtime.md lacks a row for --${option.flag} / ${option.env}`);
      if (option.default) assert.ok(docs.includes(`\`${option.default}\``), `docs/runtime.md lacks the default ${option.default} of --${option.flag}`);
    }
  });
});
