// The ajv validator of the spec, compiled once from the schema's ajv view. It applies defaults
// in place (useDefaults), so callers hand it a clone.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { specSchema } from '../schema.ts';
import { ajvView } from '../schema/views.ts';

const kubernetesKeywords = [
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-preserve-unknown-fields',
];

// RFC 3339 as metav1.Time writes it; the calendar itself is checked by Date.parse.
const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function createAjv(options: { useDefaults: boolean } = { useDefaults: true }): Ajv {
  const ajv = new Ajv({ strict: true, allErrors: true, verbose: true, useDefaults: options.useDefaults });
  // Enforced by the API server (CEL, list-map keys) and mirrored in cel-mirror.ts, so ajv only has to accept them.
  for (const keyword of kubernetesKeywords) ajv.addKeyword({ keyword });
  ajv.addFormat('date-time', { type: 'string',
    validate: (s: string) => rfc3339.test(s) && !Number.isNaN(Date.parse(s)) });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  return ajv;
}

let compiled: ValidateFunction | undefined;

/** Validates `spec` in place (adding defaults) and returns ajv's raw errors. */
export function runSpecValidator(spec: unknown): ErrorObject[] {
  compiled ??= createAjv().compile(ajvView(specSchema));
  return compiled(spec) ? [] : [...(compiled.errors ?? [])];
}
