// Labels every child object of a KMSDeployment carries. Selectors use only the stable subset
// (name + instance) because Deployment and StatefulSet selectors are immutable.

export type StackComponent = 'kes' | 'minio';

const componentRole: Record<StackComponent, string> = { kes: 'key-server', minio: 'object-storage' };

/** Labels that select the pods of `component` of KMSDeployment `instance`. */
export function selectorLabels(instance: string, component: StackComponent): Record<string, string> {
  return { 'app.kubernetes.io/name': component, 'app.kubernetes.io/instance': instance };
}

/** All labels of an object belonging to `component` of KMSDeployment `instance`. */
export function stackLabels(instance: string, component: StackComponent): Record<string, string> {
  return {
    ...selectorLabels(instance, component),
    'app.kubernetes.io/component': componentRole[component],
    'app.kubernetes.io/managed-by': 'kmsstack-operator',
    'app.kubernetes.io/part-of': 'kmsstack',
  };
}

/** Pod-template annotation whose value changes whenever what the pods mount changes, so they roll. */
export const CONFIG_CHECKSUM_ANNOTATION = 'kmsstack.io/config-checksum';

/** `map` without its undefined entries (the generated spec types allow them in string maps). */
export function definedEntries(map: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(map ?? {})) if (value !== undefined) out[key] = value;
  return out;
}

/** User pod annotations first, so that the operator's own annotations win on conflict. */
export function podAnnotations(user: Record<string, string | undefined> | undefined,
  own: Record<string, string>): Record<string, string>
{
  return { ...definedEntries(user), ...own };
}

/**
 * The prometheus.io/* pod annotations that annotation-based Prometheus scrape configs read (the
 * convention of Prometheus's own Kubernetes example configuration): empty unless `enabled`. Merged
 * under the user's podAnnotations, which may override any of them.
 */
export function scrapeAnnotations(enabled: boolean,
  target: { port: number; path: string; scheme: 'http' | 'https' }): Record<string, string>
{
  if (!enabled) return {};
  return { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(target.port), 'prometheus.io/path': target.path,
    'prometheus.io/scheme': target.scheme };
}
