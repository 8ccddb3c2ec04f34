// Public surface of the KMSDeployment API for the rest of the operator.
export * from './constants.ts';
export { parseDuration, durationMs, formatDuration } from './duration.ts';
export { kmsDeploymentSchema, specSchema, statusSchema, defaultKesImage, defaultMinioImage } from './schema.ts';
export type { CelRule, JSONSchema } from './schema.ts';
export { buildCrd } from './crd.ts';
export type * from './types.generated.ts';
