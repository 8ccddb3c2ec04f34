// A metav1.LabelSelector evaluated as the scheduler does (matchLabels and matchExpressions are ANDed;
// an empty selector matches everything), for tests that check selectors against real pod labels.

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const byExpression = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    const has = Object.hasOwn(labels, key);
    switch (operator) {
      case 'In':
        return has && values.includes(labels[key] as string);
      case 'NotIn':
        return !has || !values.includes(labels[key] as string);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      default:
        throw new Error(`unknown label selector operator ${String(operator)}`);
    }
  });
  return byLabel && byExpression;
}

/** Every labelSelector under `value` with its path, e.g. affinity.podAntiAffinity.required...[0].labelSelector. */
export function labelSelectorsIn(value: unknown, path: string): { path: string; selector: LabelSelector }[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => labelSelectorsIn(item, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) =>
    key === 'labelSelector' ? [{ path: `${path}.${key}`, selector: child as LabelSelector }] : labelSelectorsIn(child, `${path}.${key}`),
  );
}
