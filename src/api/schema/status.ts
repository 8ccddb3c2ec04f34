// status: what the operator observed, written only by the operator through the status subresource.
import { int, obj, str, workloadStatusFields } from './common.ts';
import type { JSONSchema } from './json-schema.ts';

const dateTime = (description: string): JSONSchema => ({ type: 'string', format: 'date-time', description });
const identity = (description: string): JSONSchema => ({ type: 'string', pattern: '^[0-9a-f]{64}$', maxLength: 64,
  description });

const condition = obj(
  'Condition',
  'One aspect of the current state (the shape of metav1.Condition).',
  {
    type: str(
      'Condition type, one of SpecValid, CertificatesReady, VaultConfigured, KESAvailable, KeysReady, MinIOAvailable, EncryptionVerified, BucketsReady, Ready.',
      undefined,
      {
        pattern:
          '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
        maxLength: 316,
      },
    ),
    status: { type: 'string', enum: ['True', 'False', 'Unknown'],
      description: 'Status of the condition: True, False or Unknown.' },
    reason: str('Machine-readable CamelCase reason for the last transition.', undefined, {
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
      minLength: 1,
      maxLength: 1024,
    }),
    message: str('Human-readable details; never contains secrets.', undefined, { maxLength: 32768 }),
    observedGeneration: int('metadata.generation of the spec this condition was computed from.', 0, undefined, {
      format: 'int64',
    }),
    lastTransitionTime: dateTime('When the status last changed.'),
  },
  { required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'] },
);

export const statusSchema: JSONSchema = obj('KMSDeploymentStatus', 'Observed state, written by the operator.', {
  observedGeneration: int('metadata.generation of the spec the operator last reconciled.', 0, undefined, {
    format: 'int64',
  }),
  conditions: {
    type: 'array',
    description: 'Conditions of the deployment; Ready is True when all the others that apply are True.',
    maxItems: 32,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
    items: condition,
  },
  kes: obj('KESStatus', 'What the operator observed about KES.', {
    ...workloadStatusFields('KES', 'kes', 'In-cluster URL of the KES service.'),
    minioIdentity: identity("KES identity (hex SHA-256 of the public key) of MinIO's client certificate."),
    operatorIdentity: identity("KES identity of the operator's own client certificate, used to create keys."),
    keys: {
      type: 'array',
      description:
        'Master keys the operator created or adopted, with the time it did. A recorded key that is later gone from Vault or holds other material is reported (KeysReady=False, KeyMissing or KeyReplaced) and never created again by the operator.',
      maxItems: 64,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: obj(
        'KESKeyRecord',
        'One master key the operator created or adopted.',
        {
          name: str('Name of the master key.', undefined, { maxLength: 80 }),
          createdAt: dateTime('When the operator created the key, or first found it already in Vault and adopted it.'),
        },
        { required: ['name', 'createdAt'] },
      ),
    },
  }),
  minio: obj('MinIOStatus', 'What the operator observed about MinIO.', {
    ...workloadStatusFields('MinIO', 'minio', 'In-cluster URL of the MinIO S3 service.'),
    caConfigMap: str(
      "ConfigMap (same namespace, key ca.crt) with the CA bundle S3 clients verify MinIO's certificate with; absent when MinIO serves plain HTTP.",
      undefined,
      { maxLength: 253 },
    ),
  }),
  buckets: {
    type: 'array',
    description: 'The buckets of spec.minio.buckets as the operator last found them (condition BucketsReady).',
    maxItems: 100,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['name'],
    items: obj(
      'BucketStatus',
      'One managed bucket.',
      {
        name: str('Name of the bucket.', undefined, { maxLength: 63 }),
        key: str('Master key of its default encryption (SSE-KMS), as MinIO reports it.', undefined, { maxLength: 80 }),
        state: { type: 'string', enum: ['Ready', 'Failed'],
          description:
            'Ready: the bucket exists with the default encryption, versioning and object lock of the spec. Failed: see message.' },
        message: str('What the operator did or found; never contains secrets.', undefined, { maxLength: 1024 }),
      },
      { required: ['name', 'state'] },
    ),
  },
  vault: obj('VaultStatus', 'What the operator set up in Vault.', {
    policy: str('Name of the Vault policy that grants KES access to the KV prefix.', undefined, { maxLength: 256 }),
    role: str('Name of the AppRole role KES logs in with.', undefined, { maxLength: 256 }),
    secretIDExpiresAt: dateTime('When the secret-id currently given to KES expires.'),
    kvVersion: { type: 'string', enum: ['v1', 'v2'], description: 'KV engine version found at the mount.' },
    kesAuth: { type: 'string', enum: ['AppRole', 'Kubernetes'],
      description: 'How KES logs in to Vault (spec.vault.kesAuth as last configured).' },
    kubernetesRoleMount: str(
      'Kubernetes auth mount where the operator keeps the Vault role of KES, until that role is deleted (after a switch to AppRole, once KES has rolled).',
      undefined,
      { maxLength: 200 },
    ),
  }),
  certificates: obj('CertificatesStatus', 'Validity of the TLS material the operator issued.', {
    notAfter: dateTime('Earliest expiry among the KES server certificate and the client certificates.'),
    caNotAfter: dateTime("Expiry of the deployment's CA certificate."),
  }),
});
