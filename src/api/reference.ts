// Renders the field reference of docs/api.md from the schema, so the documentation lists every
// field with its real default and rules (hack/gen.ts writes it; the stale-file test checks it).
import { hintForPattern } from './schema/formats.ts';
import type { JSONSchema } from './schema/json-schema.ts';

interface Row {
  path: string;
  node: JSONSchema;
  required: boolean;
}

function rows(node: JSONSchema, path: string, required: boolean): Row[] {
  const out: Row[] = [{ path, node, required }];
  if (node['x-kubernetes-preserve-unknown-fields']) return out;
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    out.push(...rows(child, `${path}.${key}`, node.required?.includes(key) ?? false));
  }
  if (node.items?.properties) {
    for (const [key, child] of Object.entries(node.items.properties)) {
      out.push(...rows(child, `${path}[].${key}`, node.items.required?.includes(key) ?? false));
    }
  }
  return out;
}

function typeOf(node: JSONSchema): string {
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(' / ');
  if (node.tsType) return node.tsType.replace(/^V1/, 'core/v1 ').replace(/\[\]$/, ' list');
  if (typeof node.additionalProperties === 'object') return `map of ${node.additionalProperties.type ?? 'values'}`;
  if (node.type === 'array') return node.items?.title ? `list of ${node.items.title}` : 'list';
  return node.type ?? '';
}

function defaultOf(node: JSONSchema): string {
  if (node.operatorDefault) {
    return `the operator's \`${node.operatorDefault.flag}\`, else \`${node.operatorDefault.value}\``;
  }
  if (node.default === undefined) return '';
  if (node.default !== null && typeof node.default === 'object') return '(the defaults of its fields)';
  return `\`${String(node.default)}\``;
}

function rulesOf(row: Row): string {
  const { node } = row;
  const rules: string[] = [];
  if (row.required) rules.push('required');
  if (node.pattern) rules.push(hintForPattern(node.pattern) ?? `matches \`${node.pattern}\``);
  else if (node.maxLength !== undefined) rules.push(`at most ${node.maxLength} characters`);
  if (node.minimum !== undefined && node.maximum !== undefined) rules.push(`${node.minimum} to ${node.maximum}`);
  else if (node.minimum !== undefined) rules.push(`at least ${node.minimum}`);
  if (node.minItems !== undefined || node.maxItems !== undefined) {
    rules.push(`${node.minItems ?? 0} to ${node.maxItems ?? 'any number of'} items`);
  }
  if (node['x-kubernetes-list-type'] === 'map') rules.push(`unique ${node['x-kubernetes-list-map-keys']?.join(', ')}`);
  for (const rule of node['x-kubernetes-validations'] ?? []) {
    if (rule.rule === 'self == oldSelf') rules.push(`**immutable**: ${rule.message.replace(/^is immutable: /, '')}`);
    else {
      const field = rule.fieldPath?.slice(1);
      rules.push(
        field && !rule.message.startsWith(field.split('.').at(-1) ?? '') ? `${field} ${rule.message}` : rule.message,
      );
    }
  }
  return rules.join('; ');
}

const cell = (text: string | undefined): string => (text ?? '').replaceAll('|', '\\|').replaceAll('\n', ' ');

/** A markdown table of every field under `root` (named `rootPath`, e.g. "spec"). */
export function renderFieldTable(root: JSONSchema, rootPath: string): string {
  const lines = ['| Field | Type | Default | Rules | Description |', '|---|---|---|---|---|'];
  for (const row of rows(root, rootPath, false)) {
    lines.push(
      `| \`${row.path}\` | ${cell(typeOf(row.node))} | ${cell(defaultOf(row.node))} | ${cell(rulesOf(row))} | ${
        cell(row.node.description)
      } |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
