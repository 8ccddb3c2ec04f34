// Public surface of the KMSDeployment API for the rest of the operator.
export * from './constants.ts';
export { parseDuration, durationMs, formatDuration } from './duration.ts';
export { kmsDeploymentSchema, specSchema, defaultKesImage, defaultMinioImage } from './schema.ts';
export type { JSONSchema, OperatorDefaults } from './schema.ts';
export type * from './types.generated.ts';
export { validate, validateKMSDeployment, applyDefaults, applySchemaDefaults } from './validate.ts';
export { formerDefaultImageHint, formerDefaultImages, operatorDefaultsOf } from './operator-defaults.ts';
export { formatFieldErrors, type ViolationOrigin } from './validation/field-error.ts';
