// Checks the rules kube-apiserver applies to a CRD schema (structural schema, defaults, CEL cost
// bounds) without a server: a real API server test applies the same CRD in test/integration.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildCrd } from '../../../src/api/crd.ts';
import { kmsDeploymentSchema, type JSONSchema } from '../../../src/api/schema.ts';
import { mirrorOf } from '../../../src/api/schema/json-schema.ts';
import { ajvView } from '../../../src/api/schema/views.ts';
import { createAjv } from '../../../src/api/validation/ajv.ts';
import { mirrorApiServerRules } from '../../../src/api/validation/cel-mirror.ts';

interface Visited {
  path: string;
  node: JSONSchema;
}

function walk(root: JSONSchema, path = ''): Visited[] {
  const out: Visited[] = [{ path, node: root }];
  for (const [key, child] of Object.entries(root.properties ?? {})) out.push(...walk(child, `${path}.${key}`));
  if (root.items) out.push(...walk(root.items, `${path}[]`));
  if (typeof root.additionalProperties === 'object') out.push(...walk(root.additionalProperties, `${path}{}`));
  return out;
}

const crd = buildCrd() as { spec: { versions: { schema: { openAPIV3Schema: JSONSchema }; subresources: unknown; additionalPrinterColumns: { name: string }[] }[] } };
const version = crd.spec.versions[0]!;
const crdSchema = version.schema.openAPIV3Schema;
const crdNodes = walk(crdSchema);
const sourceNodes = walk(kmsDeploymentSchema);

const allowedKeys = new Set([
  'type', 'description', 'properties', 'required', 'items', 'additionalProperties', 'enum', 'default', 'format',
  'pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems', 'maxProperties', 'x-kubernetes-validations',
  'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type', 'x-kubernetes-preserve-unknown-fields',
]);

test('every node has a type (structural schema)', () => {
  const untyped = crdNodes.filter(({ node }) => !node.type).map(({ path }) => path || '<root>');
  assert.deepEqual(untyped, []);
});

test('no node has both properties and additionalProperties, and none sets additionalProperties to a boolean', () => {
  const bad = crdNodes.filter(({ node }) => (node.properties && node.additionalProperties !== undefined) || typeof node.additionalProperties === 'boolean');
  assert.deepEqual(bad.map(({ path }) => path), []);
});

test('the CRD uses only keys the API server knows (title and tsType are stripped)', () => {
  const unknown = crdNodes.flatMap(({ path, node }) => Object.keys(node).filter((k) => !allowedKeys.has(k)).map((k) => `${path}: ${k}`));
  assert.deepEqual(unknown, []);
});

test('every field has a description, for kubectl explain', () => {
  // metadata is the exception: the API server allows nothing on it but name/generateName restrictions.
  const missing = crdNodes.filter(({ path, node }) => path !== '.metadata' && !node.description?.trim()).map(({ path }) => path || '<root>');
  assert.deepEqual(missing, []);
});

test('metadata only restricts name', () => {
  const metadata = crdSchema.properties?.metadata;
  assert.deepEqual(Object.keys(metadata ?? {}).sort(), ['properties', 'type']);
  assert.deepEqual(Object.keys(metadata?.properties ?? {}), ['name']);
  assert.equal(metadata?.properties?.name?.type, 'string');
});

test('strings and lists in the spec are bounded, so CEL cost estimation passes', () => {
  const spec = crdNodes.filter(({ path }) => path.startsWith('.spec'));
  const unboundedStrings = spec.filter(({ node }) => node.type === 'string' && node.maxLength === undefined && !node.enum);
  const unboundedLists = spec.filter(({ node }) => node.type === 'array' && node.maxItems === undefined);
  assert.deepEqual([...unboundedStrings, ...unboundedLists].map(({ path }) => path), []);
});

test('patterns are valid in both RE2 and ECMAScript (no lookaround, no backreferences)', () => {
  for (const { path, node } of crdNodes) {
    if (!node.pattern) continue;
    assert.doesNotMatch(node.pattern, /\(\?[=!<]|\\[1-9]/, `${path}: pattern uses a feature RE2 lacks`);
    assert.doesNotThrow(() => new RegExp(node.pattern as string, 'u'), `${path}: pattern does not compile`);
  }
});

test('list-map keys are required fields of the items', () => {
  for (const { path, node } of crdNodes) {
    if (node['x-kubernetes-list-type'] !== 'map') continue;
    const keys = node['x-kubernetes-list-map-keys'] ?? [];
    assert.ok(keys.length > 0, `${path}: list-map without keys`);
    for (const key of keys) assert.ok(node.items?.required?.includes(key), `${path}: map key ${key} is not required in the items`);
  }
});

test('enum values have the type of their node', () => {
  for (const { path, node } of crdNodes) {
    for (const value of node.enum ?? []) assert.equal(typeof value, node.type === 'integer' ? 'number' : node.type, `${path}: enum value ${value}`);
  }
});

test('every default validates against its own schema and CEL rules, as written', () => {
  // Like the API server: no nested defaults are filled in before a default is checked.
  const ajv = createAjv({ useDefaults: false });
  const withDefaults = sourceNodes.filter(({ node }) => node.default !== undefined);
  assert.ok(withDefaults.length > 20, 'expected the schema to declare its defaults');
  for (const { path, node } of withDefaults) {
    const value = structuredClone(node.default);
    // Wrapped, because ajv (strict) refuses a default at the root of a schema.
    const check = ajv.compile({ type: 'object', properties: { value: ajvView(node) } });
    assert.ok(check({ value }), `${path}: default ${JSON.stringify(node.default)} is invalid: ${JSON.stringify(check.errors)}`);
    assert.deepEqual(mirrorApiServerRules(node, value, undefined, path, { reportEvaluationErrors: true }), [], `${path}: default breaks a CEL rule`);
  }
});

test('every CEL rule has a TypeScript mirror and a fieldPath that exists', () => {
  let rules = 0;
  for (const { path, node } of sourceNodes) {
    for (const rule of node['x-kubernetes-validations'] ?? []) {
      rules += 1;
      assert.ok(mirrorOf(rule), `${path}: rule ${rule.rule} has no mirror`);
      assert.ok(rule.message.length > 0);
      if (!rule.fieldPath) continue;
      let target: JSONSchema | undefined = node;
      for (const part of rule.fieldPath.split('.').slice(1)) target = target?.properties?.[part];
      assert.ok(target, `${path}: fieldPath ${rule.fieldPath} does not exist`);
    }
  }
  assert.ok(rules >= 12, `expected the cross-field and immutability rules, found ${rules}`);
});

test('exactly the fields whose change would orphan encrypted data are immutable', () => {
  const immutable = sourceNodes
    .filter(({ node }) => (node['x-kubernetes-validations'] ?? []).some((r) => r.rule === 'self == oldSelf'))
    .map(({ path }) => path)
    .sort();
  assert.deepEqual(immutable, ['.spec.mode', '.spec.vault.kv.mountPath', '.spec.vault.kv.prefix', '.spec.vault.kv.version']);
  // A transition rule on a field that can be removed would let removal bypass it; these either
  // are required or have a default that comes back on removal.
  for (const path of immutable) {
    const parts = path.split('.').slice(1);
    const parent = parts.slice(0, -1).reduce<JSONSchema | undefined>((n, p) => n?.properties?.[p], kmsDeploymentSchema);
    const field = parent?.properties?.[parts.at(-1) as string];
    assert.ok(field?.default !== undefined || parent?.required?.includes(parts.at(-1) as string), `${path} can be removed`);
  }
});

test('status subresource and printer columns', () => {
  assert.deepEqual(version.subresources, { status: {} });
  assert.deepEqual(version.additionalPrinterColumns.map((c) => c.name), ['Ready', 'Mode', 'KES', 'MinIO', 'Key', 'Reason', 'Age']);
  const conditions = crdSchema.properties?.status?.properties?.conditions;
  assert.equal(conditions?.['x-kubernetes-list-type'], 'map');
  assert.deepEqual(conditions?.['x-kubernetes-list-map-keys'], ['type']);
});
