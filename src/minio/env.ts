// The environment of the MinIO container: root credentials from a Secret, and either the KES
// connection (Vault mode) or the static master key (StaticKey mode). Variable names are those of
// MinIO RELEASE.2025-10-15T17-29-55Z (internal/kms/config.go, internal/config/constants.go).
import type { V1EnvVar } from '@kubernetes/client-node';
import type { DefaultedKMSDeploymentSpec } from '../api/index.ts';
import { type DeploymentRef, kesEndpoint } from '../workload/names.ts';
import { minioFiles, minioNames, ROOT_SECRET_KEYS, STATIC_KEY_SECRET_KEY } from './names.ts';

export const minioEnvNames = {
  rootUser: 'MINIO_ROOT_USER',
  rootPassword: 'MINIO_ROOT_PASSWORD',
  kesEndpoint: 'MINIO_KMS_KES_ENDPOINT',
  kesCertFile: 'MINIO_KMS_KES_CERT_FILE',
  kesKeyFile: 'MINIO_KMS_KES_KEY_FILE',
  kesCaPath: 'MINIO_KMS_KES_CAPATH',
  kesKeyName: 'MINIO_KMS_KES_KEY_NAME',
  secretKey: 'MINIO_KMS_SECRET_KEY',
  autoEncryption: 'MINIO_KMS_AUTO_ENCRYPTION',
  prometheusAuthType: 'MINIO_PROMETHEUS_AUTH_TYPE',
  dnsCacheTtl: 'MINIO_DNS_CACHE_TTL',
} as const;

/**
 * How long MinIO keeps a resolved name (its own DNS cache, `--dns-cache-ttl`; 30s by default in Kubernetes,
 * `cmd/server-main.go`). A restarted Pod usually comes back on a new address: with 30s the other servers
 * keep dialling the old one for that long, so a rollout that restarts the next server sooner loses write
 * quorum (503 SlowDownWrite, seen in the e2e rotations). 2s, with the StatefulSet's minReadySeconds, lets
 * every server find a restarted peer before the next one stops. KES is resolved through the same cache.
 */
export const MINIO_DNS_CACHE_TTL = '2s';

/** The Secret with rootUser/rootPassword: the user's, or the one the operator generates. */
export function rootCredentialsSecretName(ref: DeploymentRef, spec: DefaultedKMSDeploymentSpec): string {
  return spec.minio.rootCredentials?.secretRef.name ?? minioNames(ref.name).rootSecret;
}

function fromSecret(name: string, secretName: string, key: string): V1EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: secretName, key } } };
}

export function buildMinioEnv(ref: DeploymentRef, spec: DefaultedKMSDeploymentSpec): V1EnvVar[] {
  const rootSecret = rootCredentialsSecretName(ref, spec);
  const env: V1EnvVar[] = [
    fromSecret(minioEnvNames.rootUser, rootSecret, ROOT_SECRET_KEYS.user),
    fromSecret(minioEnvNames.rootPassword, rootSecret, ROOT_SECRET_KEYS.password),
  ];
  if (spec.mode === 'Vault') {
    env.push(
      { name: minioEnvNames.kesEndpoint, value: kesEndpoint(ref, spec.tls.clusterDomain) },
      { name: minioEnvNames.kesCertFile, value: minioFiles.kesClientCert },
      { name: minioEnvNames.kesKeyFile, value: minioFiles.kesClientKey },
      // The deployment's CA bundle, so MinIO keeps trusting KES across server-certificate renewals.
      { name: minioEnvNames.kesCaPath, value: minioFiles.kesCa },
      { name: minioEnvNames.kesKeyName, value: spec.minio.keyName },
    );
  } else {
    env.push(fromSecret(minioEnvNames.secretKey, minioNames(ref.name).staticKeySecret, STATIC_KEY_SECRET_KEY));
  }
  env.push({ name: minioEnvNames.dnsCacheTtl, value: MINIO_DNS_CACHE_TTL });
  if (spec.minio.autoEncryption) env.push({ name: minioEnvNames.autoEncryption, value: 'on' });
  // JWT is MinIO's default: only a public metrics endpoint needs saying.
  if (spec.minio.metrics.auth === 'Public') env.push({ name: minioEnvNames.prometheusAuthType, value: 'public' });
  return env;
}
