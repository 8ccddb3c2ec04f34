// Specs shared by the KES and MinIO builder tests, defaulted the way the reconcile defaults them.
import { applyDefaults, type DefaultedKMSDeploymentSpec, type KMSDeploymentSpec } from '../../../src/api/index.ts';

export const ref = { name: 'tenant-a', namespace: 'storage' };

export const identities = {
  minio: 'dd46485bedc9ad2909d2e8f9017216eec4413bc5c64b236d992f7ec19c843c5f',
  operator: '7ec8095a5308a535b72b35c7ccd4ce1d7c14af713acd22e2935a9d6e4fe18127',
};

export function vaultSpec(overrides: { kvVersion?: 'v1' | 'v2'; extra?: Partial<KMSDeploymentSpec> } = {}): DefaultedKMSDeploymentSpec {
  return applyDefaults({
    mode: 'Vault',
    vault: {
      address: 'https://vault.vault.svc:8200',
      tls: { caSecretRef: { name: 'vault-ca' } },
      auth: { kubernetes: { role: 'kmsstack' } },
      kv: { mountPath: 'kv', version: overrides.kvVersion ?? 'v1', prefix: 'minio/tenant-a' },
    },
    kes: { keys: [{ name: 'minio-key-1' }, { name: 'minio-key-2' }] },
    minio: { keyName: 'minio-key-1' },
    ...overrides.extra,
  });
}

export function staticSpec(extra: Partial<KMSDeploymentSpec> = {}): DefaultedKMSDeploymentSpec {
  return applyDefaults({ mode: 'StaticKey', minio: { replicas: 1, keyName: 'dev-key', ...extra.minio }, ...extra });
}
