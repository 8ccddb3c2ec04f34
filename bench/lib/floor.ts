// The floor: a plain script that makes the operator's writes directly, with nothing else. For each
// KMSDeployment the operator converged, the floor copies what the operator left behind (the
// finalizer, every owned child, the Events, the status, the Vault policy and AppRole role) and, for
// a KMSDeployment of the same name in its own namespace, writes exactly that: one request per
// object, no reads except the role-id it needs, no watches, no cache, no comparisons, no retries.
// Certificates and configs are copied, not computed: the floor is the cost of the I/O alone.
// Mounts are not enabled again (the operator's run did that; they are 2 writes in total).
import { type KubeObject, resources } from '../../src/runtime/kube/resources.ts';
import type { KubeClient } from '../../src/runtime/kube/client.ts';
import type { TestVault } from '../../test/env/vault.ts';
import type { FloorTransport } from './floor-transport.ts';

/** Kinds the operator creates as children of a KMSDeployment, in the order a reconcile applies them. */
const CHILD_TYPES = [resources.Secret, resources.ConfigMap, resources.Deployment, resources.Service,
  resources.StatefulSet];
/** Role fields the operator writes (src/vault/role.ts). */
const ROLE_FIELDS = ['token_policies', 'token_ttl', 'token_max_ttl', 'token_num_uses', 'token_no_default_policy',
  'token_period', 'bind_secret_id', 'secret_id_ttl', 'secret_id_num_uses'];
const APPROLE_MOUNT = 'approle';

export interface Template {
  name: string;
  finalizers: string[];
  status: Record<string, unknown>;
  children: KubeObject[];
  events: KubeObject[];
  policy: { name: string; text: string };
  role: { name: string; fields: Record<string, unknown> };
}

/** What the operator wrote for each converged KMSDeployment of `namespace`, read as admin. */
export async function captureTemplates(admin: KubeClient, vault: TestVault, namespace: string,
  names: readonly string[]): Promise<Map<string, Template>>
{
  const byInstance = new Map<string, KubeObject[]>();
  for (const type of CHILD_TYPES) {
    for (const child
      of (await admin.list(type, namespace, { labelSelector: 'app.kubernetes.io/managed-by=kmsstack-operator' })).items)
    {
      const instance = child.metadata.labels?.['app.kubernetes.io/instance'] ?? '';
      byInstance.set(instance, [...(byInstance.get(instance) ?? []), child]);
    }
  }
  const eventsByName = new Map<string, KubeObject[]>();
  for (const event of (await admin.list(resources.Event, namespace)).items) {
    const regarding = (event['regarding'] as { name?: string } | undefined)?.name ?? '';
    eventsByName.set(regarding, [...(eventsByName.get(regarding) ?? []), event]);
  }
  const templates = new Map<string, Template>();
  for (const name of names) {
    const object = await admin.get(resources.KMSDeployment, namespace, name);
    const status = object?.['status'] as
      | (Record<string, unknown> & { vault?: { policy?: string; role?: string } })
      | undefined;
    const policyName = status?.vault?.policy;
    const roleName = status?.vault?.role;
    if (!object || !status || !policyName || !roleName) {
      throw new Error(`floor: ${namespace}/${name} has no status.vault to copy`);
    }
    const policy = await vault.request('GET', `sys/policies/acl/${policyName}`);
    const role = await vault.request('GET', `auth/${APPROLE_MOUNT}/role/${roleName}`);
    const roleData = (role.body?.['data'] ?? {}) as Record<string, unknown>;
    templates.set(name, {
      name,
      finalizers: object.metadata.finalizers ?? [],
      status,
      children: byInstance.get(name) ?? [],
      events: eventsByName.get(name) ?? [],
      policy: { name: policyName,
        text: String((policy.body?.['data'] as { policy?: string } | undefined)?.policy ?? '') },
      role: { name: roleName, fields: Object.fromEntries(ROLE_FIELDS.filter((f) =>
        f in roleData
      ).map((f) => [f, roleData[f]])) },
    });
  }
  return templates;
}

/** `value` with every occurrence of the operator's namespace replaced by the floor's. Pure. */
export function moveNamespace<T>(value: T, from: string, to: string): T {
  return JSON.parse(JSON.stringify(value).replaceAll(from, to)) as T;
}

type FieldSet = { [key: string]: FieldSet };

/**
 * The part of `value` a managedFields fieldsV1 set names ("f:field", "k:{list item keys}",
 * "v:set value", "i:index"; an empty set means the whole value). Pure.
 */
export function pickFields(value: unknown, fields: FieldSet): unknown {
  const keys = Object.keys(fields).filter((k) => k !== '.');
  if (keys.length === 0) return value;
  if (Array.isArray(value)) {
    return value.flatMap((item: unknown, index) => {
      const key = keys.find((k) => listKeyMatches(k, item, index));
      return key ? [pickFields(item, fields[key] as FieldSet)] : [];
    });
  }
  if (typeof value !== 'object' || value === null) return value;
  const picked: Record<string, unknown> = {};
  for (const key of keys) {
    const name = key.slice(2);
    if (key.startsWith('f:') && name in value) {
      picked[name] = pickFields((value as Record<string, unknown>)[name], fields[key] as FieldSet);
    }
  }
  return picked;
}

function listKeyMatches(key: string, item: unknown, index: number): boolean {
  if (key.startsWith('i:')) return Number(key.slice(2)) === index;
  if (key.startsWith('v:')) return JSON.stringify(JSON.parse(key.slice(2))) === JSON.stringify(item);
  if (!key.startsWith('k:') || typeof item !== 'object' || item === null) return false;
  const wanted = JSON.parse(key.slice(2)) as Record<string, unknown>;
  return Object.entries(wanted).every(([field, v]) =>
    JSON.stringify((item as Record<string, unknown>)[field]) === JSON.stringify(v)
  );
}

/**
 * What the operator applied to a live object: the fields its field manager owns (server defaults
 * and other managers' fields left out), owned by `owner` instead of the operator's KMSDeployment. Pure.
 */
export function asWritten(object: KubeObject, owner: KubeObject, manager = 'kmsstack-operator'): KubeObject {
  const entries = (object.metadata['managedFields'] ?? []) as Array<
    { manager?: string; operation?: string; subresource?: string; fieldsV1?: FieldSet }
  >;
  const entry = entries.find((e) => e.manager === manager && e.operation === 'Apply' && !e.subresource);
  if (!entry?.fieldsV1) {
    throw new Error(`floor: ${object.kind} ${object.metadata.name} has no fields applied by ${manager}`);
  }
  const picked = pickFields(object, entry.fieldsV1) as KubeObject;
  const metadata = { ...(picked.metadata ?? {}), name: object.metadata.name, namespace: object.metadata.namespace };
  if (metadata.ownerReferences) {
    metadata.ownerReferences = metadata.ownerReferences.map((
      ref,
    ) => (ref.kind === 'KMSDeployment' ? { ...ref, uid: owner.metadata.uid as string } : ref));
  }
  return { ...picked, apiVersion: object.apiVersion, kind: object.kind, metadata };
}

/** A copied status as observed at `generation` (the copy may come from a later generation of the original). Pure. */
export function atGeneration(status: Record<string, unknown>, generation: number): Record<string, unknown> {
  const conditions = (status['conditions'] ?? []) as Array<Record<string, unknown>>;
  return { ...status, observedGeneration: generation,
    conditions: conditions.map((c) => ({ ...c, observedGeneration: generation })) };
}

const rolePath = (role: string) => `auth/${APPROLE_MOUNT}/role/${role}`;

export class Floor {
  private eventSerial = 0;

  constructor(
    private readonly transport: FloorTransport,
    private readonly fromNamespace: string,
    private readonly toNamespace: string,
  ) {}

  /** The operator's writes for `created` (a KMSDeployment the benchmark just created), in data-path order. */
  async write(created: KubeObject, source: Template): Promise<void> {
    const { transport } = this;
    const template = moveNamespace(source, this.fromNamespace, this.toNamespace);
    const { name, namespace } = created.metadata as { name: string; namespace: string };
    const kind = { apiVersion: created.apiVersion, kind: created.kind };
    await transport.apply({ ...kind,
      metadata: { name, namespace, uid: created.metadata.uid, finalizers: template.finalizers } });
    await transport.vault('PUT', `sys/policies/acl/${template.policy.name}`, { policy: template.policy.text });
    await transport.vault('POST', rolePath(template.role.name), template.role.fields);
    await transport.vault('GET', `${rolePath(template.role.name)}/role-id`);
    await transport.vault('POST', `${rolePath(template.role.name)}/secret-id`, {
      metadata: JSON.stringify({ kmsstack_deployment: `${namespace}/${name}` }),
    });
    for (const child of template.children) await transport.apply(asWritten(child, created));
    for (const event of template.events) await transport.create(this.eventFor(event, created));
    await transport.apply({ ...kind, metadata: { name, namespace },
      status: atGeneration(template.status, created.metadata.generation ?? 1) }, 'status');
  }

  private eventFor(event: KubeObject, regarding: KubeObject): KubeObject {
    const { metadata: _metadata, ...rest } = event;
    const serial = (++this.eventSerial).toString(16);
    return {
      ...rest,
      metadata: { name: `${regarding.metadata.name}.floor${serial}`, namespace: regarding.metadata.namespace },
      regarding: { ...(event['regarding'] as object), uid: regarding.metadata.uid,
        resourceVersion: regarding.metadata.resourceVersion },
    };
  }
}
