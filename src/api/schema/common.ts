// Small schema builders shared by the spec sections, so every field is declared in one line with
// its description, format and default.
import { type FormatName, formatted } from './formats.ts';
import { type CelRule, celRule, type JSONSchema, type OperatorDefault } from './json-schema.ts';

export function str(description: string, fmt?: FormatName, extra: JSONSchema = {}): JSONSchema {
  return { type: 'string', description, ...(fmt ? formatted(fmt) : {}), ...extra };
}

export function int(description: string, minimum: number, maximum: number | undefined,
  extra: JSONSchema = {}): JSONSchema
{
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

/** Environment names the operator sets in a component's container; `env` may not set them. */
export interface ReservedEnv {
  names: readonly string[];
  prefixes: readonly string[];
}

function envRule(reserved: ReservedEnv): CelRule {
  const names = reserved.names.map((n) => `'${n}'`).join(', ');
  const prefixes = reserved.prefixes.map((p) => `!e.name.startsWith('${p}')`).join(' && ');
  return celRule<{ name?: string }[]>(
    {
      rule: `self.all(e, !(e.name in [${names}])${prefixes ? ` && ${prefixes}` : ''})`,
      message: `must not set ${
        [...reserved.names, ...reserved.prefixes.map((p) => `${p}*`)].join(', ')
      }: the operator sets these`,
    },
    (self) =>
      self.every((e) =>
        !reserved.names.includes(e.name ?? '') && !reserved.prefixes.some((p) => (e.name ?? '').startsWith(p))
      ),
  );
}

/** Refuses label keys under app.kubernetes.io/: the operator's own labels (and its selectors'). */
function noOperatorLabels(message: string): CelRule {
  return celRule<Record<string, string>>(
    { rule: "self.all(k, !k.startsWith('app.kubernetes.io/'))", message },
    (self) => Object.keys(self).every((k) => !k.startsWith('app.kubernetes.io/')),
  );
}

/** Pod-level settings copied into the pod template of `component`. */
export function podSettings(component: string, reservedEnv: ReservedEnv): Record<string, JSONSchema> {
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
    topologySpreadConstraints: {
      type: 'array',
      description:
        `How the ${component} pods spread over zones or nodes, a list of core/v1 TopologySpreadConstraint (its labelSelector should select app.kubernetes.io/name and app.kubernetes.io/instance, the labels the pods carry).`,
      tsType: 'V1TopologySpreadConstraint[]',
      maxItems: 8,
      'x-kubernetes-list-type': 'atomic',
      items: { type: 'object', description: 'A core/v1 TopologySpreadConstraint.',
        'x-kubernetes-preserve-unknown-fields': true },
    },
    nodeSelector: {
      type: 'object',
      description: `Node labels the ${component} pods must be scheduled on.`,
      additionalProperties: { type: 'string', description: 'Required value of the node label.', maxLength: 63 },
    },
    priorityClassName: str(`PriorityClass of the ${component} pods.`, 'dns1123Subdomain'),
    serviceAccountName: str(
      `ServiceAccount the ${component} pods run as (default: the namespace's default). Its token is not mounted: ${component} does not call the Kubernetes API.`,
      'dns1123Subdomain',
    ),
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
    podLabels: {
      type: 'object',
      description:
        `Extra labels on the ${component} pods. Keys under app.kubernetes.io/ are the operator's (its selectors use them) and are refused.`,
      additionalProperties: { type: 'string', description: 'Label value.', maxLength: 63 },
      maxProperties: 32,
      'x-kubernetes-validations': [
        noOperatorLabels('must not set app.kubernetes.io/ labels: the operator sets them and selects the pods by them'),
      ],
    },
    podSecurityContext: passThrough(
      `Security context of the ${component} pods, a core/v1 PodSecurityContext. When set it replaces the operator's (runAsNonRoot, UID/GID/fsGroup 1000, seccomp RuntimeDefault) as a whole: set {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}} without a UID to let the platform assign one (OpenShift's restricted SCC).`,
      'V1PodSecurityContext',
    ),
    securityContext: passThrough(
      `Security context of the ${component} container, a core/v1 SecurityContext. When set it replaces the operator's (no privilege escalation, read-only root filesystem, runAsNonRoot, all capabilities dropped) as a whole.`,
      'V1SecurityContext',
    ),
    env: {
      type: 'array',
      description:
        `Extra environment variables of the ${component} container, a list of core/v1 EnvVar (value, or valueFrom a Secret, ConfigMap or field).`,
      tsType: 'V1EnvVar[]',
      maxItems: 64,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      'x-kubernetes-validations': [envRule(reservedEnv)],
      items: {
        type: 'object',
        description: 'A core/v1 EnvVar.',
        required: ['name'],
        properties: {
          name: str('Name of the variable.', undefined, { pattern: '^[-._a-zA-Z][-._a-zA-Z0-9]*$', maxLength: 256 }),
        },
        'x-kubernetes-preserve-unknown-fields': true,
      },
    },
  };
}

/** The Service in front of `component`: its type, and extra annotations and labels. */
export function serviceSettings(component: string): JSONSchema {
  return withFieldDefaults(
    obj(`${component}ServiceSpec`, `The Service of ${component}.`, {
      type: {
        type: 'string',
        description: `Type of the ${component} Service: ClusterIP (default), NodePort or LoadBalancer.`,
        enum: ['ClusterIP', 'NodePort', 'LoadBalancer'],
        default: 'ClusterIP',
      },
      annotations: {
        type: 'object',
        description: 'Extra annotations of the Service (e.g. for a cloud load balancer).',
        additionalProperties: { type: 'string', description: 'Annotation value.', maxLength: 4096 },
      },
      labels: {
        type: 'object',
        description: "Extra labels of the Service; keys under app.kubernetes.io/ are the operator's and are refused.",
        additionalProperties: { type: 'string', description: 'Label value.', maxLength: 63 },
        maxProperties: 32,
        'x-kubernetes-validations': [
          noOperatorLabels('must not set app.kubernetes.io/ labels: the operator sets them'),
        ],
      },
    }),
  );
}

/** spec.<component>.image: the container image, with the operator's default named in the description. */
export function imageField(description: string, operatorDefault: OperatorDefault): JSONSchema {
  return str(description, 'image', { operatorDefault });
}

/** The fields of status.kes and status.minio that say how the workload runs. */
export function workloadStatusFields(component: 'KES' | 'MinIO', field: 'kes' | 'minio',
  endpointDescription: string): Record<string, JSONSchema>
{
  return {
    endpoint: { type: 'string', maxLength: 512, description: endpointDescription },
    image: str(`Image of the ${component} pods: spec.${field}.image, else the operator's default.`, undefined, {
      maxLength: 512,
    }),
    readyReplicas: int(`Number of ready ${component} pods.`, 0, 1000, { format: 'int32' }),
  };
}
