/**
 * Which layer rejects a violation: the API server's OpenAPI schema, its CEL rules, its strict
 * field validation (unknown fields; only with fieldValidation=Strict, kubectl's default), or only
 * the operator's semantic checks (reported as SpecValid=False).
 */
export type ViolationOrigin = 'schema' | 'cel' | 'unknownField' | 'operator';

export interface FieldError {
  /** Path of the offending field as kubectl shows it, e.g. spec.vault.kv.version or spec.kes.keys[1].name. */
  path: string;
  message: string;
  origin: ViolationOrigin;
}

/** Appends a data path segment the way Kubernetes prints field paths. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${parent}.${key}` : `${parent}[${key}]`;
}

export function formatFieldErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.path}: ${e.message}`).join('; ');
}
