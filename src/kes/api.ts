// Facts about the KES HTTP API of the pinned KES release (2025-03-12), shared by the config builder
// (policies, probes) and the client. Sources are listed in docs/kes.md.

/** API paths the KES server routes; key and listing paths take the key name (or prefix) as last segment. */
export const kesPaths = {
  version: '/version',
  ready: '/v1/ready',
  status: '/v1/status',
  metrics: '/v1/metrics',
  apis: '/v1/api',
  keyCreate: '/v1/key/create/',
  keyDelete: '/v1/key/delete/',
  keyDescribe: '/v1/key/describe/',
  keyList: '/v1/key/list/',
  keyGenerate: '/v1/key/generate/',
  keyDecrypt: '/v1/key/decrypt/',
} as const;

/** The route of `path` for metric labels ("key/create", "status", ...): the key name is left out. */
export function kesRouteLabel(path: string): string {
  const route = Object.values(kesPaths).find((p) => (p.endsWith('/') ? path.startsWith(p) : path === p));
  return route ? route.replace(/^\/(v1\/)?/, '').replace(/\/$/, '') : 'other';
}
