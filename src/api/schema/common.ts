// Small schema builders shared by the spec sections, so every field is declared in one line with
// its description, format and default.
import { formatted, type FormatName } from './formats.ts';
import type { JSONSchema } from './json-schema.ts';

export function str(description: string, fmt?: FormatName, extra: JSONSchema = {}): JSONSchema {
  return { type: 'string', description, ...(fmt ? formatted(fmt) : {}), ...extra };
}

export function int(description: string, minimum: number, maximum: number | undefined, extra: JSONSchema = {}): JSONSchema {
  return { type: 'integer', description, minimum, ...(maximum === undefined ? {} : { maximum }), ...extra };
}

export function bool(description: string, defaultValue: boolean): JSONSchema {
  return { type: 'boolean', description, default: defaultValue };
}

/** An object node; `title` (when given) names its generated TypeScript interface. */
export function obj(
  title: string | undefined,
  description: string,
  properties: Record<string, JSONSchema>,
  extra: JSONSchema = {},
): JSONSchema {
  return { type: 'object', ...(title ? { title } : {}), description, properties, ...extra };
}

/**
 * The object node with a default made of its fields' defaults. The API server checks an object's
 * default against the object's CEL rules as written, without filling in nested defaults first, so
 * a bare `default: {}` would fail rules that read defaulted fields.
 */
export function withFieldDefaults(node: JSONSchema): JSONSchema {
  const entries = Object.entries(node.properties ?? {}).filter(([, child]) => child.default !== undefined);
  return { ...node, default: Object.fromEntries(entries.map(([key, child]) => [key, structuredClone(child.default)])) };
}

/** Reference to a key of a Secret in the KMSDeployment's namespace. */
export function secretKeyRef(title: string, description: string, defaultKey: string, keyMeaning: string): JSONSchema {
  return obj(
    title,
    description,
    {
      name: str('Name of the Secret, in the same namespace as the KMSDeployment.', 'dns1123Subdomain'),
      key: str(`Key in the Secret's data that holds ${keyMeaning}.`, 'secretKey', { default: defaultKey }),
    },
    { required: ['name'] },
  );
}

/** Reference to a whole Secret (its keys are fixed by the consumer and documented in `description`). */
export function secretRef(title: string, description: string): JSONSchema {
  return obj(
    title,
    description,
    { name: str('Name of the Secret, in the same namespace as the KMSDeployment.', 'dns1123Subdomain') },
    { required: ['name'] },
  );
}

function passThrough(description: string, tsType: string): JSONSchema {
  return { type: 'object', description, tsType, 'x-kubernetes-preserve-unknown-fields': true };
}

/** Pod-level settings copied verbatim into the pod template of `component`. */
export function podSettings(component: string): Record<string, JSONSchema> {
  return {
    resources: passThrough(
      `Compute resources (requests/limits) of the ${component} container, a core/v1 ResourceRequirements.`,
      'V1ResourceRequirements',
    ),
    affinity: passThrough(`Scheduling affinity of the ${component} pods, a core/v1 Affinity.`, 'V1Affinity'),
    tolerations: {
      type: 'array',
      description: `Tolerations of the ${component} pods, a list of core/v1 Toleration.`,
      tsType: 'V1Toleration[]',
      maxItems: 64,
      'x-kubernetes-list-type': 'atomic',
      items: { type: 'object', description: 'A core/v1 Toleration.', 'x-kubernetes-preserve-unknown-fields': true },
    },
    nodeSelector: {
      type: 'object',
      description: `Node labels the ${component} pods must be scheduled on.`,
      additionalProperties: { type: 'string', description: 'Required value of the node label.', maxLength: 63 },
    },
    imagePullSecrets: {
      type: 'array',
      description: `Secrets (in the same namespace) used to pull the ${component} image.`,
      tsType: 'V1LocalObjectReference[]',
      maxItems: 16,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: obj(
        undefined,
        'Reference to an image pull Secret.',
        { name: str('Name of the image pull Secret.', 'dns1123Subdomain') },
        { required: ['name'] },
      ),
    },
    podAnnotations: {
      type: 'object',
      description: `Extra annotations on the ${component} pods (the operator's own annotations win on conflict).`,
      additionalProperties: { type: 'string', description: 'Annotation value.', maxLength: 4096 },
    },
  };
}
