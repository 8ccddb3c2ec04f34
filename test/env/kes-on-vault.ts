// One deployment's KES on a real Vault, set up as the operator sets it up: a KV mount, the KES
// policy the operator renders (src/vault/policy.ts), an AppRole with it, certificates for KES, MinIO
// and the operator, and KES run from the config the operator renders (src/kes/config.ts). Tests
// then drive the operator's keys and verify steps, and MinIO, against it.
import { applyDefaults, type DefaultedKMSDeploymentSpec, type KMSDeploymentSpec } from '../../src/api/index.ts';
import { buildKesConfig } from '../../src/kes/config.ts';
import { KES_APPROLE_ENV } from '../../src/kes/names.ts';
import { type DeploymentRef } from '../../src/workload/names.ts';
import { renderKesPolicy } from '../../src/vault/policy.ts';
import { identityOf, issue, makeCa, type Pem } from '../unit/kes/tls-fixture.ts';
import { startKes, type TestKes } from './kes.ts';
import { startVault, type TestVault } from './vault.ts';

export interface KesOnVault {
  ref: DeploymentRef;
  vault: TestVault;
  kes: TestKes;
  ca: Awaited<ReturnType<typeof makeCa>>;
  minioClient: Pem;
  operatorClient: Pem;
  mount: string;
  prefix: string;
  /** Path of a key's entry in Vault (KV v2: under data/ or metadata/). */
  entryPath(key: string, part?: 'data' | 'metadata'): string;
  /** The spec for these keys and this MinIO default key, with this Vault. */
  specFor(keys: string[], keyName: string): DefaultedKMSDeploymentSpec;
  /** Restarts KES with the config for `spec` (a rolled KES Deployment). */
  rollKes(spec: DefaultedKMSDeploymentSpec): Promise<void>;
  stop(): Promise<void>;
}

export interface KesOnVaultOptions {
  kvVersion: 'v1' | 'v2';
  keys: string[];
  keyName: string;
  /** KES's in-memory key cache; short expiries let a test see what Vault holds now. */
  cacheExpiry?: { any: string; unused: string };
}

export async function startKesOnVault(options: KesOnVaultOptions): Promise<KesOnVault> {
  const ref = { name: 'tenant-a', namespace: 'storage' };
  const { kvVersion } = options;
  const mount = kvVersion === 'v1' ? 'kv' : 'kv2';
  const prefix = `kmsstack/storage/${kvVersion}`;
  const ca = await makeCa();
  const kesServer = await issue(ca, 'tenant-a-kes', 'server');
  const minioClient = await issue(ca, 'tenant-a-minio', 'client');
  const operatorClient = await issue(ca, 'kmsstack-operator', 'client');

  const vault = await startVault();
  await vault.request('POST', `sys/mounts/${mount}`, { type: 'kv', options: { version: kvVersion === 'v1' ? '1' : '2' } });
  await vault.request('POST', 'sys/auth/approle', { type: 'approle' });
  await vault.writePolicy('kes-tenant-a', renderKesPolicy({ deployment: ref, kvMountPath: mount, kvVersion, prefix, allowKeyDeletion: false }));
  await vault.request('POST', 'auth/approle/role/kes-tenant-a', { token_policies: ['kes-tenant-a'], token_no_default_policy: true, token_ttl: '5m' });
  const roleId = ((await vault.request('GET', 'auth/approle/role/kes-tenant-a/role-id')).body?.['data'] as { role_id: string }).role_id;
  const secretId = ((await vault.request('POST', 'auth/approle/role/kes-tenant-a/secret-id')).body?.['data'] as { secret_id: string }).secret_id;

  const specFor = (keys: string[], keyName: string): DefaultedKMSDeploymentSpec =>
    applyDefaults({
      mode: 'Vault',
      vault: { address: vault.address, auth: { kubernetes: { role: 'kmsstack' } }, kv: { mountPath: mount, version: kvVersion, prefix } },
      kes: { keys: keys.map((name) => ({ name })), ...(options.cacheExpiry ? { cache: { expiry: options.cacheExpiry } } : {}) },
      minio: { keyName },
    } as KMSDeploymentSpec);
  const identities = { minio: identityOf(minioClient.cert), operator: identityOf(operatorClient.cert) };
  const launch = (spec: DefaultedKMSDeploymentSpec, port?: number) =>
    startKes({
      port,
      config: buildKesConfig({ deployment: ref, spec, identities }),
      tls: kesServer,
      ca: ca.cert,
      env: { [KES_APPROLE_ENV.roleId]: roleId, [KES_APPROLE_ENV.secretId]: secretId },
    });

  let kes: TestKes;
  try {
    kes = await launch(specFor(options.keys, options.keyName));
  } catch (err) {
    await vault.stop();
    throw err;
  }
  const env: KesOnVault = {
    ref, vault, kes, ca, minioClient, operatorClient, mount, prefix, specFor,
    entryPath: (key, part = 'data') => (kvVersion === 'v1' ? `${mount}/${prefix}/${key}` : `${mount}/${part}/${prefix}/${key}`),
    rollKes: async (spec) => {
      const port = env.kes.port;
      await env.kes.stop();
      env.kes = await launch(spec, port);
    },
    stop: async () => {
      await env.kes.stop();
      await vault.stop();
    },
  };
  return env;
}
