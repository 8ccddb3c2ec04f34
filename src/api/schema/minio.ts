// spec.minio: the MinIO StatefulSet that encrypts objects with keys from KES (or the static key).
import { bool, imageField, int, obj, podSettings, secretRef, serviceSettings, str,
  withFieldDefaults } from './common.ts';
import { celRule, type JSONSchema } from './json-schema.ts';

const atCreation = 'the operator applies it when it creates the bucket and never changes an existing bucket';

const bucket = obj(
  'MinIOBucket',
  "A bucket the operator creates through MinIO's S3 API with the root credentials, with a default encryption (SSE-KMS) under one master key. The operator never deletes a bucket or its objects: removing the entry only stops managing it.",
  {
    name: str('Name of the bucket (the S3 naming rules).', 'bucketName', {
      'x-kubernetes-validations': [
        celRule<string>(
          { rule: "!self.contains('..') && !self.contains('.-') && !self.contains('-.')",
            message: 'must not contain "..", ".-" or "-."' },
          (self) => !self.includes('..') && !self.includes('.-') && !self.includes('-.'),
        ),
        celRule<string>(
          { rule: "!self.matches('^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+$')", message: 'must not look like an IP address' },
          (self) => !/^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+$/.test(self),
        ),
        celRule<string>(
          { rule: "!self.startsWith('xn--') && !self.endsWith('-s3alias') && !self.endsWith('--ol-s3')",
            message: 'must not start with "xn--" or end with "-s3alias" or "--ol-s3" (reserved by S3)' },
          (self) => !self.startsWith('xn--') && !self.endsWith('-s3alias') && !self.endsWith('--ol-s3'),
        ),
      ],
    }),
    key: str(
      "Master key of the bucket's default encryption (SSE-KMS with this key id): one of spec.kes.keys. Unset: spec.minio.keyName, MinIO's default key. Changing it re-encrypts nothing: new objects use the new key, existing ones keep theirs (which must stay listed in spec.kes.keys to remain readable).",
      'keyName',
    ),
    versioning: bool(
      'Enable versioning, when the bucket is created or later. The operator never suspends versioning: false leaves a versioned bucket as it is.',
      false,
    ),
    objectLock: bool(
      `Create the bucket with object lock (which also enables versioning). Object lock cannot be added to an existing bucket: ${atCreation}.`,
      false,
    ),
  },
  { required: ['name'] },
);

/**
 * The last MinIO community release published as an image: later releases (from
 * RELEASE.2025-10-15T17-29-55Z on) are source-only, and MinIO deleted its Docker Hub repositories in
 * September 2026; quay.io/minio still serves the published tags.
 */
export const defaultMinioImage = 'quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z';

export const minioSchema: JSONSchema = obj(
  'MinIOSpec',
  'The MinIO servers (guide step 5), run as a StatefulSet with one PersistentVolumeClaim per drive.',
  {
    image: imageField('MinIO container image; forks and mirrors of the community image work too.', {
      setting: 'minioImage',
      flag: '--default-minio-image',
      value: defaultMinioImage,
    }),
    replicas: int(
      'Number of MinIO servers. 1 runs a single server; more form one distributed erasure-coded pool and need replicas * drivesPerServer >= 4.',
      1,
      32,
      {
        default: 4,
      },
    ),
    drivesPerServer: int('Number of drives (PersistentVolumeClaims) per MinIO server.', 1, 16, { default: 1 }),
    pools: {
      type: 'array',
      description:
        "More server pools after the first one (replicas x drivesPerServer with storage): each its own StatefulSet <name>-minio-<pool name>, and MinIO started with every pool's URL. Pools may be added, at the end; MinIO then restarts all its servers at once. A pool cannot be removed, reordered or reshaped (servers, drives per server, storage class), and its drives can grow but not shrink. Needs a distributed first pool (replicas > 1).",
      maxItems: 8,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: obj(
        'MinIOPool',
        'One more server pool of MinIO.',
        {
          name: str('Name of the pool, part of its StatefulSet and pod names.', undefined, {
            pattern: '^[a-z]([-a-z0-9]*[a-z0-9])?$',
            maxLength: 16,
          }),
          servers: int('Number of MinIO servers (pods) of the pool.', 1, 32),
          drivesPerServer: int('Number of drives (PersistentVolumeClaims) per server of the pool.', 1, 16, {
            default: 1,
          }),
          storage: obj('MinIOPoolStorage', "Storage of each drive of the pool; unset fields take spec.minio.storage's.",
            {
              size: str('Size of each drive, a Kubernetes quantity; it may grow but never shrink.', 'quantity'),
              storageClassName: str('StorageClass of the drives.', 'dns1123Subdomain'),
            }),
        },
        { required: ['name', 'servers'] },
      ),
      'x-kubernetes-validations': [
        celRule<{ name?: string }[]>(
          {
            rule: 'oldSelf.all(o, self.exists(p, p.name == o.name))',
            message: 'a server pool cannot be removed: MinIO keeps objects on it and would not start without it',
            reason: 'FieldValueForbidden',
          },
          (self, oldSelf) => ((oldSelf ?? []) as { name?: string }[]).every((o) => self.some((p) => p.name === o.name)),
        ),
        celRule<{ name?: string }[]>(
          {
            rule: 'self.map(p, p.name).filter(n, oldSelf.exists(o, o.name == n)) == oldSelf.map(o, o.name)',
            message: 'server pools keep their order: add new pools at the end',
            reason: 'FieldValueForbidden',
          },
          (self, oldSelf) => {
            const old = ((oldSelf ?? []) as { name?: string }[]).map((o) => o.name);
            return JSON.stringify(self.map((p) => p.name).filter((n) => old.includes(n))) === JSON.stringify(old);
          },
        ),
      ],
    },
    storage: withFieldDefaults(
      obj('MinIOStorage', 'Storage of each drive.', {
        size: str(
          "Size of each drive, a Kubernetes quantity. It may grow (each drive's claim is expanded when its StorageClass allows volume expansion, else MinIOAvailable is StorageExpansionNotSupported) but never shrink.",
          'quantity',
          { default: '10Gi' },
        ),
        storageClassName: str('StorageClass of the drives. Unset uses the cluster default.', 'dns1123Subdomain'),
      }),
    ),
    keyName: str(
      "Name of the key MinIO encrypts new objects with (MINIO_KMS_KES_KEY_NAME, or the static key name in StaticKey mode). In Vault mode it must be listed in spec.kes.keys, and changing it rotates MinIO's default key: the operator creates and verifies the new key, then rolls MinIO to it; objects encrypted before keep their key, which must stay listed in spec.kes.keys to remain readable. Immutable in StaticKey mode.",
      'keyName',
      { default: 'minio-key-1' },
    ),
    buckets: {
      type: 'array',
      description:
        "Buckets the operator creates and keeps encrypted by default with their key (docs/minio.md). Condition BucketsReady and status.buckets report each. Removing a bucket from the list stops managing it; the bucket and its objects stay. MinIO's KES policy allows generating data keys with exactly the keys these buckets and spec.minio.keyName use.",
      maxItems: 100,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: bucket,
    },
    autoEncryption: bool(
      'Encrypt every object with SSE-S3 even when the client does not ask for it (MINIO_KMS_AUTO_ENCRYPTION).',
      false,
    ),
    rootCredentials: obj('MinIORootCredentials',
      'Root credentials of MinIO. When unset the operator generates them into the Secret <name>-minio-root.', {
      secretRef: secretRef('MinIORootSecretRef',
        'Secret in the same namespace with the keys rootUser and rootPassword.'),
    }, { required: ['secretRef'] }),
    tls: withFieldDefaults(
      obj('MinIOTLS', "MinIO's own S3 endpoint TLS (docs/minio.md#tls-and-certificates).", {
        enabled: bool(
          "Serve S3 (and the traffic between MinIO's servers) over HTTPS with a server certificate from the deployment's CA; S3 clients verify it with the CA bundle in the ConfigMap <name>-minio-ca (status.minio.caConfigMap). false serves plain HTTP, for clusters that terminate TLS elsewhere (a service mesh).",
          true,
        ),
        certificateSecretRef: secretRef(
          'MinIOCertificateSecretRef',
          "Serve this certificate instead of one the operator issues: a kubernetes.io/tls Secret in the same namespace (e.g. cert-manager's) with tls.crt, tls.key and optionally ca.crt (then mounted as MinIO's trusted CA and published in <name>-minio-ca). Its names must cover the Service <name>-minio.<ns>.svc.<clusterDomain> and, with several servers, every <pod>.<name>-minio-hl.<ns>.svc.<clusterDomain> (a wildcard does). The operator never writes it; MinIO rolls when it changes.",
        ),
      }, {
        'x-kubernetes-validations': [
          celRule<{ enabled?: boolean; certificateSecretRef?: unknown }>(
            { rule: '!has(self.certificateSecretRef) || self.enabled',
              message: 'certificateSecretRef needs enabled: true', fieldPath: '.certificateSecretRef' },
            (self) => self.certificateSecretRef === undefined || self.enabled !== false,
          ),
        ],
      }),
    ),
    metrics: withFieldDefaults(
      obj('MinIOMetrics', "Scraping MinIO's own Prometheus metrics (docs/observability.md).", {
        enabled: bool(
          'Annotate the MinIO pods with prometheus.io/scrape, port, path (/minio/v2/metrics/cluster) and scheme for annotation-based scraping.',
          false,
        ),
        auth: {
          type: 'string',
          enum: ['JWT', 'Public'],
          default: 'JWT',
          description:
            "MINIO_PROMETHEUS_AUTH_TYPE. JWT (MinIO's default): Prometheus sends a bearer token made with `mc admin prometheus generate`. Public: no authentication, so whoever reaches MinIO reads its metrics, bucket names and usage included.",
        },
      }),
    ),
    ...podSettings('MinIO', {
      names: ['MINIO_ROOT_USER', 'MINIO_ROOT_PASSWORD', 'MINIO_VOLUMES', 'MINIO_PROMETHEUS_AUTH_TYPE'],
      prefixes: ['MINIO_KMS_'],
    }),
    service: serviceSettings('MinIO'),
  },
);
