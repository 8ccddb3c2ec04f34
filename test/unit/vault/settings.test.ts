import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults } from '../../../src/api/index.ts';
import { resolveVaultSettings, type VaultSpec } from '../../../src/vault/settings.ts';

const deployment = { namespace: 'storage', name: 'tenant-a' };
const minimal: VaultSpec = { address: 'https://vault.vault.svc:8200', auth: { kubernetes: { role: 'kmsstack' } }, kv: { prefix: 'minio/tenant-a' } };

test('defaults fill every optional field', () => {
  const settings = resolveVaultSettings(minimal, deployment);
  assert.deepEqual(settings, {
    deployment,
    instance: 'default',
    address: 'https://vault.vault.svc:8200',
    vaultNamespace: undefined,
    ca: undefined,
    tlsServerName: undefined,
    auth: { method: 'kubernetes', role: 'kmsstack', mountPath: 'kubernetes' },
    kv: { mountPath: 'kv', version: 'v1', prefix: 'minio/tenant-a', create: true },
    appRole: { mountPath: 'approle', tokenTTLSeconds: 300, tokenMaxTTLSeconds: 3600, secretIDTTLSeconds: 86400, secretIDRenewBeforeSeconds: 28800 },
    kesAuth: { method: 'AppRole' },
    objectName: 'kmsstack_default_storage_tenant-a',
    legacyObjectName: 'kmsstack-storage-tenant-a',
  });
});

test('kesAuth Kubernetes: the mount, the audience, the token lifetime and KES\'s own ServiceAccount; errors name the field', () => {
  const settings = resolveVaultSettings({ ...minimal, kesAuth: 'Kubernetes', kesKubernetes: { mountPath: '/k8s-east/', tokenExpiration: '30m' } }, deployment);
  assert.deepEqual(settings.kesAuth, { method: 'Kubernetes', mountPath: 'k8s-east', audience: 'vault', serviceAccount: 'tenant-a-kes', tokenExpirationSeconds: 1800 });
  assert.throws(() => resolveVaultSettings({ ...minimal, kesAuth: 'Kubernetes', kesKubernetes: { mountPath: 'k8s/*' } }, deployment), /spec\.vault\.kesKubernetes\.mountPath/);
  assert.throws(() => resolveVaultSettings({ ...minimal, kesAuth: 'Kubernetes', kesKubernetes: { tokenExpiration: '1m' } }, deployment), /spec\.vault\.kesKubernetes\.tokenExpiration: must be between 10m and 24h/);
});

test('the fallbacks equal the CRD defaults applied by applyDefaults', () => {
  const defaulted = applyDefaults({ mode: 'Vault', vault: minimal } as Parameters<typeof applyDefaults>[0]);
  assert.deepEqual(resolveVaultSettings(defaulted.vault, deployment), resolveVaultSettings(minimal, deployment));
});

test('explicit values are kept and normalized', () => {
  const settings = resolveVaultSettings({
    address: 'https://vault.example:8200/',
    namespace: '/team-a/',
    tls: { caSecretRef: { name: 'vault-ca' }, serverName: 'vault.internal' },
    auth: { token: { secretRef: { name: 'vault-token', key: 'vault-token' } } },
    kv: { mountPath: '/secret/', version: 'v2', prefix: 'minio/tenant-a', create: true },
    appRole: { mountPath: 'kes-approle', tokenTTL: '1m', tokenMaxTTL: '0', secretIDTTL: '24h', secretIDRenewBefore: '8h' },
  }, deployment);
  assert.equal(settings.address, 'https://vault.example:8200');
  assert.equal(settings.vaultNamespace, 'team-a');
  assert.deepEqual(settings.ca, { secretName: 'vault-ca', secretKey: 'ca.crt' });
  assert.equal(settings.tlsServerName, 'vault.internal');
  assert.deepEqual(settings.auth, { method: 'token', secretName: 'vault-token', secretKey: 'vault-token' });
  assert.deepEqual(settings.kv, { mountPath: 'secret', version: 'v2', prefix: 'minio/tenant-a', create: true });
  assert.equal(settings.appRole.tokenMaxTTLSeconds, 0);
  assert.equal(settings.appRole.secretIDRenewBeforeSeconds, 8 * 3600);
});

test('bad input names the field and what is wrong', () => {
  const cases: [VaultSpec | undefined, RegExp][] = [
    [undefined, /spec\.vault: is required/],
    [{ ...minimal, address: '' }, /spec\.vault\.address: is required/],
    [{ ...minimal, address: 'vault:8200' }, /spec\.vault\.address: scheme must be https/],
    [{ ...minimal, address: 'https://vault:8200/v1' }, /spec\.vault\.address: give only scheme, host and port/],
    [{ ...minimal, auth: {} }, /spec\.vault\.auth: set one of kubernetes or token/],
    [{ ...minimal, auth: { kubernetes: { role: 'r' }, token: { secretRef: { name: 't' } } } }, /spec\.vault\.auth: set exactly one/],
    [{ ...minimal, auth: { kubernetes: { role: '' } } }, /spec\.vault\.auth\.kubernetes\.role: /],
    [{ ...minimal, kv: { prefix: 'a', version: 'v3' as 'v1' } }, /spec\.vault\.kv\.version: must be v1 or v2/],
    [{ ...minimal, kv: { prefix: 'a/*' } }, /spec\.vault\.kv\.prefix: /],
    [{ ...minimal, kv: { prefix: '' } }, /spec\.vault\.kv\.prefix: is required/],
    [{ ...minimal, appRole: { tokenTTL: '1500ms' } }, /spec\.vault\.appRole\.tokenTTL: .*whole seconds/],
    [{ ...minimal, appRole: { tokenTTL: '5 minutes' } }, /spec\.vault\.appRole\.tokenTTL: /],
    [{ ...minimal, appRole: { tokenTTL: '1h', tokenMaxTTL: '30m' } }, /spec\.vault\.appRole\.tokenMaxTTL: must be at least tokenTTL/],
    [{ ...minimal, appRole: { secretIDTTL: '0' } }, /spec\.vault\.appRole\.secretIDTTL: must be longer than 0s/],
    [{ ...minimal, appRole: { secretIDTTL: '1h', secretIDRenewBefore: '1h' } }, /spec\.vault\.appRole\.secretIDRenewBefore: must be .* shorter than secretIDTTL/],
    [{ ...minimal, tls: { caSecretRef: { name: '' } } }, /spec\.vault\.tls\.caSecretRef\.name: /],
  ];
  for (const [spec, message] of cases) assert.throws(() => resolveVaultSettings(spec, deployment), message, JSON.stringify(spec));
});
