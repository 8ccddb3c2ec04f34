// Derived views of the one schema: what the API server gets, what ajv validates with, and what
// json-schema-to-typescript turns into types. Each view is a fresh deep copy.
import type { JSONSchema } from './json-schema.ts';

type Node = JSONSchema & Record<string, unknown>;

function mapSchema(schema: JSONSchema, visit: (node: Node) => Node): JSONSchema {
  const walk = (node: JSONSchema): JSONSchema => {
    const copy: Node = { ...(node as Node) };
    if (node.properties) {
      copy.properties = Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, walk(v)]));
    }
    if (node.items) copy.items = walk(node.items);
    if (node.additionalProperties && typeof node.additionalProperties === 'object') {
      copy.additionalProperties = walk(node.additionalProperties);
    }
    if (node['x-kubernetes-validations']) {
      copy['x-kubernetes-validations'] = node['x-kubernetes-validations'].map((r) => ({ ...r }));
    }
    if (node.required) copy.required = [...node.required];
    if (node.enum) copy.enum = [...node.enum];
    if (node.default !== undefined) copy.default = structuredClone(node.default);
    return visit(copy);
  };
  return walk(schema);
}

function omit(node: Node, ...keys: string[]): Node {
  const copy = { ...node };
  for (const key of keys) delete copy[key];
  return copy;
}

/**
 * The description with the facts `kubectl explain` does not show by itself: the default and
 * whether the field can change after creation.
 */
export function describe(node: JSONSchema): string | undefined {
  const facts: string[] = [];
  if (node.default !== undefined && (node.default === null || typeof node.default !== 'object')) {
    facts.push(`Default: ${String(node.default)}.`);
  }
  if (node.operatorDefault) {
    facts.push(
      `Default: the operator's ${node.operatorDefault.flag} if set, else ${node.operatorDefault.value} (applied by the operator, never stored in the object; see docs/install.md).`,
    );
  }
  for (const rule of node['x-kubernetes-validations'] ?? []) {
    if (rule.rule === 'self == oldSelf') {
      facts.push(`Cannot be changed after creation: ${rule.message.replace(/^is immutable: /, '')}.`);
    }
  }
  if (facts.length === 0) return node.description;
  return [node.description, ...facts].filter(Boolean).join(' ');
}

function withFacts(node: Node): Node {
  const description = describe(node);
  return description === undefined ? node : { ...node, description };
}

/** An object whose fields are all declared: unknown fields are an error (ajv) or absent (types). */
function isClosedObject(node: JSONSchema): boolean {
  return node.type === 'object' && node.properties !== undefined && !node['x-kubernetes-preserve-unknown-fields'];
}

/** The openAPIV3Schema of the CRD: only keys the API server knows. */
export function crdView(schema: JSONSchema): JSONSchema {
  return mapSchema(schema, (node) => omit(withFacts(node), 'title', 'tsType', 'operatorDefault'));
}

/**
 * The schema ajv validates with. Unlike the API server, which silently prunes unknown fields,
 * the validator reports them, so a misspelled field in a manifest is caught.
 */
export function ajvView(schema: JSONSchema): JSONSchema {
  return mapSchema(schema, (node) => {
    const copy = omit(node, 'tsType', 'title', 'operatorDefault');
    if (isClosedObject(node)) copy.additionalProperties = false;
    return copy;
  });
}

/**
 * The schema types are generated from. With `defaulted`, every field that has a default (the
 * API server's or the operator's) is required, which is the shape applyDefaults() returns; interfaces get the `Defaulted` prefix.
 */
export function typesView(schema: JSONSchema, options: { defaulted: boolean }): JSONSchema {
  // Children are visited before their parent, so operatorDefault goes in a second pass: the
  // parent still has to see it to make the field required.
  const typed = mapSchema(schema, (node) => {
    const copy = omit(withFacts(node), 'x-kubernetes-validations');
    if (isClosedObject(node)) copy.additionalProperties = false;
    if (node['x-kubernetes-preserve-unknown-fields'] && !node.tsType) copy.additionalProperties = true;
    if (options.defaulted) {
      if (node.title) copy.title = `Defaulted${node.title}`;
      const withDefaults = Object.entries(node.properties ?? {}).filter(([, v]) =>
        v.default !== undefined || v.operatorDefault
      ).map(([k]) => k);
      if (withDefaults.length > 0) copy.required = [...new Set([...(node.required ?? []), ...withDefaults])];
    }
    return copy;
  });
  return mapSchema(typed, (node) => omit(node, 'operatorDefault'));
}
