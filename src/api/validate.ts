// validate() and applyDefaults(): the pure entry points the reconciler (SpecValid) and tools use.
// Defaults and rules come from the schema; nothing here restates a default.
import { isDeepStrictEqual } from 'node:util';
import { fillOperatorDefaults } from './operator-defaults.ts';
import { formats } from './schema/formats.ts';
import type { OperatorDefaults } from './schema/json-schema.ts';
import { specSchema } from './schema.ts';
import type { DefaultedKMSDeploymentSpec, KMSDeploymentSpec } from './types.generated.ts';
import { runSpecValidator } from './validation/ajv.ts';
import { mirrorApiServerRules } from './validation/cel-mirror.ts';
import type { FieldError } from './validation/field-error.ts';
import { translateAjvErrors } from './validation/messages.ts';
import { semanticChecks } from './validation/semantic.ts';

export interface ValidateOptions {
  /** The spec before this update, to check that immutable fields did not change. */
  old?: unknown;
  /** metadata.name of the KMSDeployment, checked because child objects are named after it. */
  name?: string;
}

/** A deep copy of `spec` with the CRD's defaults filled in: what the API server stores. Does not validate. */
export function applySchemaDefaults(spec: KMSDeploymentSpec): KMSDeploymentSpec {
  const copy = structuredClone(spec);
  runSpecValidator(copy);
  return copy;
}

/**
 * A deep copy of `spec` with every default filled in: the CRD's, then the operator's own (the
 * images), where a non-empty entry of `operatorDefaults` replaces the built-in value. Does not validate.
 */
export function applyDefaults(spec: KMSDeploymentSpec,
  operatorDefaults: Partial<OperatorDefaults> = {}): DefaultedKMSDeploymentSpec
{
  const copy = applySchemaDefaults(spec);
  fillOperatorDefaults(specSchema, copy, operatorDefaults);
  return copy as DefaultedKMSDeploymentSpec;
}

function checkName(name: string): FieldError[] {
  const f = formats.objectName;
  if (name.length <= f.maxLength && new RegExp(f.pattern, 'u').test(name)) return [];
  return [{ path: 'metadata.name', message: f.hint, origin: 'schema' }];
}

function dedupe(errors: FieldError[]): FieldError[] {
  return errors.filter((e, i) => errors.findIndex((o) => isDeepStrictEqual(o, e)) === i);
}

/**
 * Every violation in `spec`, each with its field path (spec.vault.kv.version) and a message for
 * the user; empty when the spec is valid. Covers the OpenAPI schema, the CEL rules (transition
 * rules when `options.old` is given), unknown fields, and the semantic checks only the operator makes.
 */
export function validate(spec: unknown, options: ValidateOptions = {}): FieldError[] {
  const errors: FieldError[] = options.name === undefined ? [] : checkName(options.name);
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    return [...errors, { path: 'spec', message: spec === undefined ? 'is required' : 'must be a mapping of fields',
      origin: 'schema' }];
  }
  const defaulted = structuredClone(spec);
  errors.push(...translateAjvErrors(runSpecValidator(defaulted), 'spec', defaulted));
  let old: unknown;
  if (options.old !== null && typeof options.old === 'object') {
    old = structuredClone(options.old);
    runSpecValidator(old);
  }
  errors.push(...mirrorApiServerRules(specSchema, defaulted, old, 'spec'));
  // The semantic checks read the defaulted shape; which image fills it does not matter to them.
  fillOperatorDefaults(specSchema, defaulted, {});
  errors.push(...semanticChecks(defaulted as DefaultedKMSDeploymentSpec));
  return dedupe(errors);
}

interface ObjectLike {
  metadata?: { name?: unknown };
  spec?: unknown;
}

/** The field errors of a whole KMSDeployment object (its name and validate() of its spec); `old` is the stored object on updates. */
export function validateKMSDeployment(object: unknown, options: { old?: unknown } = {}): FieldError[] {
  const obj = (object ?? {}) as ObjectLike;
  const name = obj.metadata?.name;
  const nameErrors: FieldError[] = typeof name === 'string' || name === undefined
    ? []
    : [{ path: 'metadata.name', message: 'must be a string', origin: 'schema' }];
  const old = (options.old ?? undefined) as ObjectLike | undefined;
  return [...nameErrors, ...validate(obj.spec, { old: old?.spec, ...(typeof name === 'string' ? { name } : {}) })];
}
