// The single source of truth of the KMSDeployment API: the OpenAPI v3 schema. The CRD, the
// TypeScript types and the validator are all derived from it (`npm run gen` writes the first two).
import { obj } from './schema/common.ts';
import { formatted } from './schema/formats.ts';
import type { JSONSchema } from './schema/json-schema.ts';
import { specSchema } from './schema/spec.ts';
import { statusSchema } from './schema/status.ts';

export type { JSONSchema, OperatorDefaults } from './schema/json-schema.ts';
export { defaultKesImage } from './schema/kes.ts';
export { defaultMinioImage } from './schema/minio.ts';
export { specSchema, statusSchema };

export const kmsDeploymentSchema: JSONSchema = obj(
  'KMSDeployment',
  'A MinIO -> KES -> Vault encryption stack: MinIO encrypts objects (SSE-S3) with keys from KES, which keeps its master keys in an external Vault or OpenBao. The operator sets up certificates, the Vault KV mount, policy and AppRole, KES, the master keys and MinIO.',
  {
    apiVersion: { type: 'string', description: 'APIVersion of this object: kmsstack.io/v1alpha1.' },
    kind: { type: 'string', description: 'Kind of this object: KMSDeployment.' },
    metadata: {
      // The API server refuses anything on metadata but restrictions of name and generateName,
      // even a description.
      type: 'object',
      tsType: 'V1ObjectMeta',
      properties: {
        // Child Services and StatefulSets are named <name>-minio-hl, <name>-kes, ...; the
        // StatefulSet's revision label limits the name further, so 40 characters leave room.
        name: { type: 'string', description: 'Name of the KMSDeployment; child objects are named after it.',
          ...formatted('objectName') },
      },
    },
    spec: specSchema,
    status: statusSchema,
  },
  { required: ['spec'] },
);
