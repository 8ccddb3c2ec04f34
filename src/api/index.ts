// Public surface of the KMSDeployment API for the rest of the operator.
export * from './constants.ts';
export { durationMs, formatDuration, parseDuration } from './duration.ts';
export { formerDefaultImageHint, formerDefaultImages, operatorDefaultsOf } from './operator-defaults.ts';
export { defaultKesImage, defaultMinioImage, kmsDeploymentSchema, specSchema } from './schema.ts';
export type { JSONSchema, OperatorDefaults } from './schema.ts';
export type * from './types.generated.ts';
export { applyDefaults, applySchemaDefaults, validate, validateKMSDeployment } from './validate.ts';
export { formatFieldErrors, type ViolationOrigin } from './validation/field-error.ts';
