// Evaluates, in TypeScript, what the API server enforces beyond the OpenAPI keywords: the CEL
// rules (through the mirror declared with each rule) and the key uniqueness of list-maps. Runs on
// the defaulted spec, like the API server.
import { isDeepStrictEqual } from 'node:util';
import { type JSONSchema, mirrorOf } from '../schema/json-schema.ts';
import { childPath, type FieldError } from './field-error.ts';

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function evaluateRules(schema: JSONSchema, self: unknown, oldSelf: unknown, path: string, out: FieldError[],
  reportThrows: boolean): void
{
  for (const rule of schema['x-kubernetes-validations'] ?? []) {
    const entry = mirrorOf(rule);
    if (!entry) throw new Error(`CEL rule ${JSON.stringify(rule.rule)} at ${path} has no TypeScript mirror`);
    if (entry.transition && oldSelf === undefined) continue;
    let holds: boolean;
    try {
      holds = entry.mirror(self as never, oldSelf);
    } catch (error) {
      // A mirror throws only on a missing or mistyped field, which the schema check already
      // reported; the API server would fail the rule's evaluation there.
      if (reportThrows) {
        out.push({ path, message: `rule ${JSON.stringify(rule.rule)} cannot be evaluated: ${String(error)}`,
          origin: 'cel' });
      }
      continue;
    }
    if (!holds) out.push({ path: rule.fieldPath ? path + rule.fieldPath : path, message: rule.message, origin: 'cel' });
  }
}

function checkListMapKeys(schema: JSONSchema, list: unknown[], path: string, out: FieldError[]): void {
  const keys = schema['x-kubernetes-list-map-keys'] ?? [];
  const seen: Record<string, unknown>[] = [];
  list.forEach((item, index) => {
    const record = asRecord(item);
    if (!record) return;
    const key = Object.fromEntries(keys.map((k) => [k, record[k]]));
    if (seen.some((other) => isDeepStrictEqual(other, key))) {
      const shown = keys.map((k) => `${k} ${JSON.stringify(record[k])}`).join(', ');
      out.push({ path: childPath(path, index), message: `duplicate entry: another item already has ${shown}`,
        origin: 'schema' });
    }
    seen.push(key);
  });
}

/**
 * Walks `schema` and `value` together. `old` is the previous value on an update; transition rules
 * (self == oldSelf) only apply where both exist, as in the API server.
 */
export function mirrorApiServerRules(
  schema: JSONSchema,
  value: unknown,
  old: unknown,
  path: string,
  options: { reportEvaluationErrors?: boolean } = {},
): FieldError[] {
  const out: FieldError[] = [];
  const walk = (node: JSONSchema, self: unknown, oldSelf: unknown, at: string): void => {
    if (self === undefined) return;
    const record = asRecord(self);
    if (node.properties && record) {
      const oldRecord = asRecord(oldSelf);
      for (const [key, child] of Object.entries(node.properties)) {
        walk(child, record[key], oldRecord?.[key], childPath(at, key));
      }
    }
    if (node.items && Array.isArray(self)) {
      self.forEach((item, index) => walk(node.items as JSONSchema, item, undefined, childPath(at, index)));
      if (node['x-kubernetes-list-type'] === 'map') checkListMapKeys(node, self, at, out);
    }
    evaluateRules(node, self, oldSelf, at, out, options.reportEvaluationErrors ?? false);
  };
  walk(schema, value, old, path);
  return out;
}
