// The defaults the operator applies itself (schema key `operatorDefault`), because a CRD default
// would be stored in every object and an operator-wide setting could then never apply.
import type { JSONSchema, OperatorDefault, OperatorDefaults } from './schema/json-schema.ts';

/**
 * Fills every field of `value` that `schema` gives an operator default and `value` leaves unset:
 * the operator's setting when it is non-empty, else the built-in value. Mutates `value`.
 */
export function fillOperatorDefaults(schema: JSONSchema, value: unknown, settings: Partial<OperatorDefaults>): void {
  if (Array.isArray(value)) {
    if (schema.items) { for (const item of value) fillOperatorDefaults(schema.items, item, settings); }
    return;
  }
  if (value === null || typeof value !== 'object' || !schema.properties) return;
  const fields = value as Record<string, unknown>;
  for (const [key, child] of Object.entries(schema.properties)) {
    if (fields[key] === undefined && child.operatorDefault) {
      fields[key] = settings[child.operatorDefault.setting] || child.operatorDefault.value;
    }
    fillOperatorDefaults(child, fields[key], settings);
  }
}

/** Every operator default of `schema` with its path (spec.kes.image), for documentation and tests. */
export function operatorDefaultsOf(schema: JSONSchema, path: string): (OperatorDefault & { path: string })[] {
  const own = schema.operatorDefault ? [{ path, ...schema.operatorDefault }] : [];
  const children = Object.entries(schema.properties ?? {}).flatMap(([key, child]) =>
    operatorDefaultsOf(child, `${path}.${key}`)
  );
  return [...own, ...children, ...(schema.items ? operatorDefaultsOf(schema.items, `${path}[]`) : [])];
}

/**
 * The images earlier releases wrote into every KMSDeployment as CRD defaults. Neither can be pulled
 * any more (MinIO deleted its Docker Hub repositories; that MinIO release never had an image), and
 * objects keep them until someone removes them (docs/install.md).
 */
export const formerDefaultImages = {
  'spec.kes.image': 'minio/kes:2025-03-12T09-35-18Z',
  'spec.minio.image': 'minio/minio:RELEASE.2025-10-15T17-29-55Z',
} as const;

/** What to tell the user whose pods wait while `field` still holds the former default image. */
export function formerDefaultImageHint(field: keyof typeof formerDefaultImages, image: string): string | undefined {
  if (image !== formerDefaultImages[field]) return undefined;
  return `${field} is ${image}, the default of earlier releases, which can no longer be pulled: remove the field to use the operator's default image, or name a mirror (docs/install.md)`;
}
