// The CustomResourceDefinition object, built from the schema (pure; hack/gen.ts writes it as YAML).
import { API_GROUP, API_VERSION, CATEGORIES, CRD_NAME, KIND, PLURAL, SHORT_NAMES, SINGULAR } from './constants.ts';
import { kmsDeploymentSchema } from './schema.ts';
import { crdView } from './schema/views.ts';

const readyCondition = '.status.conditions[?(@.type=="Ready")]';

export function buildCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: CRD_NAME,
      labels: { 'app.kubernetes.io/name': 'kmsstack-operator', 'app.kubernetes.io/part-of': 'kmsstack' },
    },
    spec: {
      group: API_GROUP,
      scope: 'Namespaced',
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: [...SHORT_NAMES],
        categories: [...CATEGORIES],
      },
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Ready', type: 'string', jsonPath: `${readyCondition}.status`,
              description: 'Whether the whole stack works.' },
            { name: 'Mode', type: 'string', jsonPath: '.spec.mode', priority: 1, description: 'Vault or StaticKey.' },
            { name: 'KES', type: 'integer', jsonPath: '.status.kes.readyReplicas', description: 'Ready KES pods.' },
            { name: 'MinIO', type: 'integer', jsonPath: '.status.minio.readyReplicas',
              description: 'Ready MinIO pods.' },
            { name: 'Key', type: 'string', jsonPath: '.spec.minio.keyName', description: 'Key MinIO encrypts with.' },
            { name: 'Reason', type: 'string', jsonPath: `${readyCondition}.reason`, priority: 1,
              description: 'Reason of the Ready condition.' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: { openAPIV3Schema: crdView(kmsDeploymentSchema) },
        },
      ],
    },
  };
}
