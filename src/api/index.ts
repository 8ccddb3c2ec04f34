// Public surface of the KMSDeployment API for the rest of the operator.
export * from './constants.ts';
export { parseDuration, durationMs, formatDuration } from './duration.ts';
export { kmsDeploymentSchema, specSchema, statusSchema, defaultKesImage, defaultMinioImage } from './schema.ts';
export type { CelRule, JSONSchema, OperatorDefaults } from './schema.ts';
export { buildCrd } from './crd.ts';
export type * from './types.generated.ts';
export { validate, validateKMSDeployment, applyDefaults, applySchemaDefaults, type ValidateOptions } from './validate.ts';
export { formerDefaultImageHint, formerDefaultImages, operatorDefaultsOf } from './operator-defaults.ts';
export { formatFieldErrors, type FieldError, type ViolationOrigin } from './validation/field-error.ts';
export { possibleErasureSetSizes } from './validation/semantic.ts';
