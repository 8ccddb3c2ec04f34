import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as yaml from 'js-yaml';
import { buildKesConfig, minioPolicyPaths, operatorPolicyPaths, renderKesConfig } from '../../../src/kes/config.ts';
import { assertGolden } from '../../support/golden.ts';
import { identities, ref, vaultSpec } from './fixtures.ts';

describe('KES config', () => {
  it('renders the config for a KV v1 mount (golden)', () => {
    assertGolden('kes/config-kv-v1.yaml', renderKesConfig({ deployment: ref, spec: vaultSpec({ kvVersion: 'v1' }), identities }));
  });

  it('renders the config for a KV v2 mount with a Vault namespace, custom mounts, cache (with the offline cache) and metrics without a client certificate (golden)', () => {
    const spec = vaultSpec({
      kvVersion: 'v2',
      extra: {
        vault: {
          address: 'https://openbao.example.com:8200',
          namespace: 'team-a',
          auth: { token: { secretRef: { name: 'vault-token' } } },
          kv: { mountPath: 'secret', version: 'v2', prefix: 'kes/tenant-a' },
          appRole: { mountPath: 'approle-kes' },
        },
        kes: { keys: [{ name: 'minio-key-1' }], cache: { expiry: { any: '1h30m', unused: '45s', offline: '2h' } }, metrics: { enabled: true } },
        keyDeletionPolicy: 'Delete',
      },
    });
    assertGolden('kes/config-kv-v2.yaml', renderKesConfig({ deployment: ref, spec, identities }));
  });

  it('parses back to the KES schema with the secrets only as whole ${VAR} references', () => {
    const text = renderKesConfig({ deployment: ref, spec: vaultSpec(), identities });
    const parsed = yaml.load(text) as ReturnType<typeof buildKesConfig>;
    assert.deepEqual(parsed, buildKesConfig({ deployment: ref, spec: vaultSpec(), identities }));
    assert.equal(parsed.keystore.vault.approle?.id, '${KES_VAULT_ROLE_ID}');
    assert.equal(parsed.keystore.vault.approle?.secret, '${KES_VAULT_SECRET_ID}');
    assert.equal(parsed.admin.identity, 'disabled');
    assert.deepEqual(parsed.policy.minio.identities, [identities.minio]);
    assert.deepEqual(parsed.policy.operator.identities, [identities.operator]);
    assert.equal(parsed.keystore.vault.tls?.ca, '/etc/kes/vault-ca/ca.crt');
  });

  it('with kesAuth Kubernetes logs in with the projected token file and the Vault role, and has no AppRole (golden)', () => {
    const spec = vaultSpec();
    (spec.vault as { kesAuth: string }).kesAuth = 'Kubernetes';
    (spec.vault as { kesKubernetes: { mountPath: string } }).kesKubernetes.mountPath = 'kubernetes-kes';
    const text = renderKesConfig({ deployment: ref, spec, identities, vaultRole: 'kmsstack_default_storage_tenant-a' });
    assertGolden('kes/config-kubernetes-auth.yaml', text);
    const parsed = yaml.load(text) as ReturnType<typeof buildKesConfig>;
    assert.equal(parsed.keystore.vault.approle, undefined, 'KES refuses a config with two login methods');
    // KES treats a jwt value containing "/" as a file it reads at every login.
    assert.deepEqual(parsed.keystore.vault.kubernetes, { engine: 'kubernetes-kes', role: 'kmsstack_default_storage_tenant-a', jwt: '/var/run/secrets/kes/vault/token' });
    assert.throws(() => buildKesConfig({ deployment: ref, spec, identities }), /vaultRole: required when spec.vault.kesAuth is Kubernetes/);
  });

  it('leaves out the Vault CA and namespace when the spec has none', () => {
    const spec = vaultSpec();
    delete spec.vault?.tls;
    const config = buildKesConfig({ deployment: ref, spec, identities });
    assert.equal(config.keystore.vault.tls, undefined);
    assert.equal('namespace' in config.keystore.vault, false);
  });

  it('grants MinIO exactly the per-key paths of this deployment plus listing, status and API listing, never create', () => {
    assert.deepEqual(minioPolicyPaths(['k1']), [
      '/v1/key/generate/k1',
      '/v1/key/decrypt/k1',
      '/v1/key/describe/k1',
      '/v1/key/list/*',
      '/v1/status',
      '/v1/api',
    ]);
    // No pattern may reach a key whose name merely starts with a listed one.
    for (const path of minioPolicyPaths(['k1', 'k2'])) assert.ok(!/\/v1\/key\/(create|generate|decrypt|describe)\/.*\*/.test(path), path);
    // MinIO creates its default key at start-up when it is missing: it must never mint a replacement.
    assert.ok(!minioPolicyPaths(['k1', 'k2']).some((path) => path.startsWith('/v1/key/create/')));
  });

  it('grants the operator key deletion only with keyDeletionPolicy Delete', () => {
    assert.deepEqual(operatorPolicyPaths(['k1'], 'Retain'), ['/v1/key/create/k1', '/v1/key/generate/k1', '/v1/key/list/*', '/v1/status']);
    assert.deepEqual(operatorPolicyPaths(['k1'], 'Delete'), ['/v1/key/create/k1', '/v1/key/generate/k1', '/v1/key/list/*', '/v1/status', '/v1/key/delete/*']);
    assert.ok(!operatorPolicyPaths(['k1'], 'Delete').some((path) => path.startsWith('/v1/key/decrypt/')), 'the operator never decrypts');
  });

  it('lets MinIO generate only with the keys in use (its default and the buckets\' keys), decrypt and describe with every listed key', () => {
    const spec = vaultSpec({
      extra: {
        kes: { keys: [{ name: 'minio-key-1' }, { name: 'old-key' }, { name: 'bucket-key' }, { name: 'next-key' }] },
        minio: { keyName: 'minio-key-1', buckets: [{ name: 'invoices', key: 'bucket-key' }, { name: 'logs' }] },
      },
    });
    const allow = buildKesConfig({ deployment: ref, spec, identities }).policy.minio.allow;
    assert.deepEqual(allow.filter((p) => p.startsWith('/v1/key/generate/')), ['/v1/key/generate/minio-key-1', '/v1/key/generate/bucket-key']);
    for (const key of ['minio-key-1', 'old-key', 'bucket-key', 'next-key']) assert.ok(allow.includes(`/v1/key/decrypt/${key}`), key);
  });

  it('names every invalid field in one error', () => {
    const spec = vaultSpec({ extra: { kes: { keys: [{ name: 'ok-key' }, { name: 'bad.key' }, { name: 'trailing-' }] } } });
    spec.vault = { ...spec.vault!, tls: { serverName: 'vault.internal' } };
    assert.throws(
      () => buildKesConfig({ deployment: ref, spec, identities: { minio: 'ABC', operator: identities.operator } }),
      (err: Error) => {
        assert.match(err.message, /spec\.kes\.keys\[1\]\.name: "bad\.key" may contain only letters, digits, "_" and "-"/);
        assert.match(err.message, /spec\.kes\.keys\[2\]\.name: "trailing-" must not start or end with "-"/);
        assert.match(err.message, /spec\.vault\.tls\.serverName: KES has no setting/);
        assert.match(err.message, /identities\.minio: must be 64 lowercase hex/);
        return true;
      },
    );
    assert.throws(
      () => buildKesConfig({ deployment: ref, spec: vaultSpec(), identities: { minio: identities.minio, operator: identities.minio } }),
      /MinIO and the operator must have different identities/,
    );
  });

  it('refuses to build a KES config in StaticKey mode', () => {
    const spec = { ...vaultSpec(), mode: 'StaticKey' as const };
    assert.throws(() => buildKesConfig({ deployment: ref, spec, identities }), /spec\.mode: KES runs only in Vault mode/);
  });
});
