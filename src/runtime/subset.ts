// Decides whether applying a desired object would change the live one, so that a reconcile where
// nothing changed sends no write at all (a server-side apply always counts as a write, even a no-op).
// The rule: every field the desired object sets must be present in the live object with the same
// meaning. Fields only in live (defaults, status, other managers' fields) are ignored. Where the answer
// is unclear the function reports a difference, because an extra apply is harmless and a missed one is not.
import { encodeSecretData } from './kube/secret-data.ts';
import type { KubeObject } from './kube/resources.ts';
import { quantitiesEqual } from './quantity.ts';

/** Keys whose values are resource quantities that the API server may rewrite into canonical form. */
const QUANTITY_PARENTS = new Set(['limits', 'requests', 'capacity', 'overhead', 'hard']);
/** Object data maps: their values are opaque strings, never quantities. */
const OPAQUE_ROOTS = new Set(['data', 'stringData', 'binaryData']);

/** `desired` as the API server will store it: the normalisation known to happen on write, applied before comparing. */
export function normalizeDesired(desired: KubeObject): KubeObject {
  if (desired.kind === 'Secret' && (desired.apiVersion ?? 'v1') === 'v1' && isRecord(desired.stringData)) {
    // stringData is write-only: the server merges it into data as base64 and never returns it.
    const { stringData, ...rest } = desired;
    const data: Record<string, unknown> = { ...(isRecord(rest.data) ? rest.data : {}) };
    const encoded = encodeSecretData(
      Object.fromEntries(Object.entries(stringData).map(([key, value]) => [key, String(value)])),
    );
    return { ...rest, data: { ...data, ...encoded } };
  }
  return desired;
}

/** The JSON path of the first desired field that live lacks or holds differently; undefined if none. */
export function findDifference(desired: KubeObject, live: KubeObject | undefined): string | undefined {
  if (live === undefined) return '(object does not exist)';
  return difference(normalizeDesired(desired), live, []);
}

/** True when applying `desired` would not change `live`. */
export function isSemanticSubset(desired: KubeObject, live: KubeObject | undefined): boolean {
  return findDifference(desired, live) === undefined;
}

function difference(desired: unknown, live: unknown, path: string[]): string | undefined {
  if (desired === null || desired === undefined) return undefined; // unset in the apply: no opinion
  const here = () => (path.length === 0 ? '.' : `.${path.join('.')}`);
  if (Array.isArray(desired)) {
    if (live === undefined && desired.length === 0) return undefined; // servers drop empty lists
    // Same length and order: a list element we stopped wanting must make us apply (SSA removes it).
    if (!Array.isArray(live) || live.length !== desired.length) return here();
    for (let i = 0; i < desired.length; i++) {
      const found = difference(desired[i], live[i], [...path, `[${i}]`]);
      if (found) return found;
    }
    return undefined;
  }
  if (isRecord(desired)) {
    if (live === undefined && Object.keys(desired).length === 0) return undefined; // servers drop empty maps
    if (!isRecord(live)) return here();
    for (const [key, value] of Object.entries(desired)) {
      const found = difference(value, live[key], [...path, key]);
      if (found) return found;
    }
    return undefined;
  }
  if (desired === live) return undefined;
  if (typeof desired === 'string' && typeof live === 'string' && isQuantityPath(path) &&
    quantitiesEqual(desired, live))
  {
    return undefined;
  }
  return here();
}

function isQuantityPath(path: string[]): boolean {
  if (OPAQUE_ROOTS.has(path[0] ?? '')) return false;
  const key = path.at(-1) ?? '';
  const parent = path.at(-2) ?? '';
  return QUANTITY_PARENTS.has(parent) || (key === 'sizeLimit' && parent === 'emptyDir');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
