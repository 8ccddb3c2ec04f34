// Names of the MinIO objects of one KMSDeployment, its ports, and where files are mounted in the pods.
import { pkiSecretNames } from '../pki/names.ts';

export const MINIO_S3_PORT = 9000;
/** MinIO's cluster-wide Prometheus metrics (metrics v2; the path MinIO's own docs scrape). */
export const MINIO_METRICS_PATH = '/minio/v2/metrics/cluster';
export const MINIO_CONSOLE_PORT = 9001;

export function minioNames(name: string) {
  return {
    /** StatefulSet and the client Service. */
    workload: `${name}-minio`,
    /** Headless Service that gives each server its stable DNS name. */
    headless: `${name}-minio-hl`,
    /** Generated root credentials, used when spec.minio.rootCredentials is unset. */
    rootSecret: `${name}-minio-root`,
    /** Generated static master key (StaticKey mode only). */
    staticKeySecret: `${name}-minio-static-key`,
    /** MinIO's client identity towards KES (tls.crt, tls.key, ca.crt), issued by the PKI step. */
    kesIdentitySecret: pkiSecretNames(name).leaves.minioClient,
    /** MinIO's own S3 server certificate (tls.crt, tls.key, ca.crt) when spec.minio.tls.enabled, issued by the PKI step. */
    tlsSecret: pkiSecretNames(name).leaves.minioServer,
    /** ConfigMap with the CA bundle S3 clients verify MinIO with (key ca.crt), when spec.minio.tls.enabled. */
    caConfigMap: `${name}-minio-ca`,
  } as const;
}

/** Key of the CA bundle in the CA ConfigMap (the key name cert-manager's trust bundles and kube-root-ca.crt use). */
export const CA_BUNDLE_KEY = 'ca.crt';

export const ROOT_SECRET_KEYS = { user: 'rootUser', password: 'rootPassword' } as const;
export const STATIC_KEY_SECRET_KEY = 'kms-secret-key';

export const minioMounts = {
  kesIdentityDir: '/etc/minio/kes',
  certsDir: '/etc/minio/certs',
  tmpDir: '/tmp',
} as const;

export const minioFiles = {
  kesClientCert: `${minioMounts.kesIdentityDir}/tls.crt`,
  kesClientKey: `${minioMounts.kesIdentityDir}/tls.key`,
  kesCa: `${minioMounts.kesIdentityDir}/ca.crt`,
} as const;

/** Mount path of drive `index` (1-based) of a server. */
export function drivePath(index: number): string {
  return `/data${index}`;
}

/** Name of the volumeClaimTemplate (and volume) of drive `index` (1-based). */
export function driveVolumeName(index: number): string {
  return `data${index}`;
}
