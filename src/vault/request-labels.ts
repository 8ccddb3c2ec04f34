// The `operation` label of the Vault request metrics: the method and the kind of API path, never a
// name from a spec (mounts, roles, prefixes are tenant-chosen and would make the label unbounded).
const TOKEN_ENDPOINTS = new Set(['lookup-self', 'renew-self', 'create', 'revoke-self']);

function pathKind(segments: readonly string[]): string {
  const [first, second, third, , fifth, sixth] = segments;
  if (first === 'sys') {
    if (second === 'health') return 'sys/health';
    if (second === 'policies' && third === 'acl') return 'sys/policies/acl';
    if (second === 'mounts') return 'sys/mounts';
    if (second === 'auth') return 'sys/auth';
    return 'sys/other';
  }
  if (first === 'auth') {
    if (second === 'token') return TOKEN_ENDPOINTS.has(third ?? '') ? `auth/token/${third}` : 'auth/token/other';
    if (third === 'login') return 'auth/login';
    if (third === 'role') {
      if (fifth === 'secret-id' || fifth === 'secret-id-accessor') {
        return sixth
          ? `auth/role/${fifth}/${sixth === 'lookup' || sixth === 'destroy' ? sixth : 'other'}`
          : `auth/role/${fifth}`;
      }
      if (fifth === 'role-id') return 'auth/role/role-id';
      return 'auth/role';
    }
    return 'auth/other';
  }
  // Anything else the operator calls is a KV engine (its key cleanup); mount and prefix stay out.
  return 'kv';
}

/** The metric label of a Vault request, e.g. "POST auth/login", "GET sys/health", "LIST kv"; bounded whatever the path holds. */
export function vaultOperationLabel(method: string, pathname: string): string {
  const segments = pathname.replace(/^\/v1\//, '').split('?')[0]?.split('/').filter(Boolean) ?? [];
  const verb = /^(GET|POST|PUT|DELETE|LIST|PATCH)$/.test(method.toUpperCase()) ? method.toUpperCase() : 'OTHER';
  return `${verb} ${pathKind(segments)}`;
}
