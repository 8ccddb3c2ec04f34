// Turns ajv's errors into field paths and sentences a KMSDeployment author understands.
import type { ErrorObject } from 'ajv';
import { hintForPattern } from '../schema/formats.ts';
import { childPath, type FieldError } from './field-error.ts';

/** Converts ajv's JSON pointer into a Kubernetes field path, using the data to tell list indexes from map keys. */
export function pointerToPath(root: string, pointer: string, data: unknown): string {
  let path = root;
  let node: unknown = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(node)) {
      path = childPath(path, Number(key));
      node = node[Number(key)];
    } else {
      path = childPath(path, key);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return path;
}

const typeNames: Record<string, string> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'a mapping of fields',
  array: 'a list',
};

function shown(value: unknown): string {
  const text = JSON.stringify(value);
  return text !== undefined && text.length <= 64 ? ` (got ${text})` : '';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function sentence(error: ErrorObject): string {
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a field of KMSDeployment v1alpha1 (check the spelling and the indentation)';
    case 'type':
      return `must be ${typeNames[String(p.type)] ?? String(p.type)}${shown(error.data)}`;
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}${
        shown(error.data)
      }`;
    case 'pattern':
      return `${hintForPattern(String(p.pattern)) ?? 'has an invalid format'}${shown(error.data)}`;
    case 'minLength':
      return p.limit === 1 ? 'must not be empty' : `must be at least ${plural(Number(p.limit), 'character')} long`;
    case 'maxLength':
      return `must be at most ${plural(Number(p.limit), 'character')} long`;
    case 'minimum':
      return `must be at least ${String(p.limit)}${shown(error.data)}`;
    case 'maximum':
      return `must be at most ${String(p.limit)}${shown(error.data)}`;
    case 'minItems':
      return `must list at least ${plural(Number(p.limit), 'item')}`;
    case 'maxItems':
      return `must list at most ${plural(Number(p.limit), 'item')}`;
    case 'format':
      return p.format === 'date-time'
        ? 'must be an RFC 3339 time such as 2025-01-31T12:00:00Z'
        : `must be a ${String(p.format)} value`;
    default:
      return 'is invalid';
  }
}

export function translateAjvErrors(errors: readonly ErrorObject[], root: string, data: unknown): FieldError[] {
  return errors.map((error) => {
    const at = pointerToPath(root, error.instancePath, data);
    const p = error.params as Record<string, unknown>;
    if (error.keyword === 'required') {
      return { path: childPath(at, String(p.missingProperty)), message: sentence(error), origin: 'schema' };
    }
    if (error.keyword === 'additionalProperties') {
      return { path: childPath(at, String(p.additionalProperty)), message: sentence(error), origin: 'unknownField' };
    }
    return { path: at, message: sentence(error), origin: 'schema' };
  });
}
