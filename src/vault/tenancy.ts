// Which Vault servers and KV prefixes a KMSDeployment may use. The operator acts in Vault with one identity for every
// namespace it watches and writes a KES policy for whatever spec.vault.kv.prefix says, so without a
// rule anyone who may create a KMSDeployment in one namespace could name another namespace's prefix
// and be handed credentials for its master keys (or, with keyDeletionPolicy: Delete, have them
// deleted). Two rules close that: the administrator's prefix template ties prefixes to namespaces,
// and a prefix already used by an older KMSDeployment on the same Vault mount is not handed out again.
// A third keeps credentials home: the operator contacts only Vault servers the administrator lists,
// since it sends them its own ServiceAccount token (Kubernetes auth) or a Secret's value (token auth).
// Pure: text and objects in, verdicts with field-naming messages out.
import { DEFAULT_INSTANCE } from './names.ts';
import { checkVaultPath, type VaultSettings } from './settings.ts';

export type PrefixRule =
  | { kind: 'any' }
  /** `segments` has {instance} already replaced; {namespace} and {name} are replaced per deployment. */
  | { kind: 'template'; template: string; segments: readonly string[] };

/** The setting that switches the template rule off, for clusters with a single tenant. */
export const ANY_PREFIX = '*';
/** The default template of the instance "default": the root of version 0.1, so its prefixes keep working. */
export const DEFAULT_PREFIX_TEMPLATE = 'kmsstack/{namespace}';
/**
 * The default template of every other instance. Its first segment is not "kmsstack" and its second
 * is the instance, so no two instances' roots overlap, and none overlaps the "default" instance's.
 */
export const INSTANCE_PREFIX_TEMPLATE = 'kmsstack-instances/{instance}/{namespace}';

const PLACEHOLDERS = new Set(['{namespace}', '{name}', '{instance}']);

/** The template an operator instance uses when --kv-prefix-template is empty. */
export function defaultPrefixTemplate(instance: string): string {
  return instance === DEFAULT_INSTANCE ? DEFAULT_PREFIX_TEMPLATE : INSTANCE_PREFIX_TEMPLATE;
}

/**
 * Parses --kv-prefix-template for the operator instance `instance`: slash-separated segments, each a
 * plain Vault path segment or one of the whole-segment placeholders {namespace} (required), {name}
 * and {instance}. Whole segments only, because "{namespace}-{name}" would give team-a/b-c and
 * team-a-b/c the same prefix. Empty: defaultPrefixTemplate(instance).
 */
export function parsePrefixTemplate(text: string, instance: string = DEFAULT_INSTANCE): PrefixRule {
  const trimmed = text.trim() === '' ? defaultPrefixTemplate(instance) : text.trim();
  if (trimmed === ANY_PREFIX) return { kind: 'any' };
  const template = trimmed.replace(/^\/+|\/+$/g, '');
  const noNamespace =
    `must contain the segment {namespace} (such as "${DEFAULT_PREFIX_TEMPLATE}"), or be "${ANY_PREFIX}" to allow any prefix; got ${
      JSON.stringify(text)
    }`;
  const segments = template.split('/');
  if (template === '') throw new Error(noNamespace);
  for (const segment of segments) {
    if (PLACEHOLDERS.has(segment)) continue;
    if (segment.includes('{') || segment.includes('}')) {
      throw new Error(
        `placeholders must be whole segments, and only {namespace}, {name} and {instance} exist; got ${
          JSON.stringify(segment)
        } in ${JSON.stringify(text)}`,
      );
    }
    checkVaultPath(segment, `segment ${JSON.stringify(segment)}`);
  }
  if (!segments.includes('{namespace}')) throw new Error(noNamespace);
  return { kind: 'template', template, segments: segments.map((s) => (s === '{instance}' ? instance : s)) };
}

export function describeRule(rule: PrefixRule): string {
  return rule.kind === 'any' ? ANY_PREFIX : rule.template;
}

/** The prefix root the template gives one KMSDeployment; undefined when any prefix is allowed. */
export function allowedRoot(rule: PrefixRule, deployment: { namespace: string; name: string }): string | undefined {
  if (rule.kind === 'any') return undefined;
  return rule.segments.map((s) => (s === '{namespace}' ? deployment.namespace : s === '{name}' ? deployment.name : s))
    .join('/');
}

/** True when `inner` is `outer` or lies below it, comparing whole segments ("a/b" is not below "a/bc"). */
export function isWithin(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(`${outer}/`);
}

export function prefixesOverlap(a: string, b: string): boolean {
  return isWithin(a, b) || isWithin(b, a);
}

/** Why the template forbids this deployment's prefix, naming the field; undefined when it is allowed. */
export function prefixNotAllowed(rule: PrefixRule, settings: Pick<VaultSettings, 'deployment' | 'kv'>):
  | string
  | undefined
{
  const root = allowedRoot(rule, settings.deployment);
  if (root === undefined || isWithin(settings.kv.prefix, root)) return undefined;
  return (
    `spec.vault.kv.prefix: "${settings.kv.prefix}" is outside "${root}", the only prefix (with the paths below it) this operator ` +
    `hands out to ${settings.deployment.namespace}/${settings.deployment.name} (operator setting --kv-prefix-template "${
      describeRule(rule)
    }"); ` +
    'the prefix is immutable, so re-create the KMSDeployment with an allowed prefix'
  );
}

/** Where a deployment's keys live: the same prefix means the same keys only on the same server, namespace and mount. */
export interface KeyLocation {
  readonly deployment: { readonly namespace: string; readonly name: string };
  /** Creation time in ms; the older of two overlapping deployments keeps its prefix. */
  readonly createdAt: number;
  readonly address: string;
  readonly vaultNamespace: string | undefined;
  readonly mountPath: string;
  readonly prefix: string;
}

/**
 * One spelling per Vault server: scheme and host in lower case, no default port, no trailing slash
 * and no trailing dot of a fully qualified host name (URL parsing does all but the last).
 */
export function normalizeAddress(address: string): string {
  try {
    const url = new URL(address);
    return `${url.protocol}//${url.hostname.replace(/\.$/, '')}${url.port ? `:${url.port}` : ''}`;
  } catch {
    return address;
  }
}

function joinPath(parts: readonly string[]): string {
  return parts.join('/').split('/').filter((s) => s !== '').join('/');
}

// Every reconcile compares its deployment with every other one (N per reconcile, N² to converge N):
// the spellings compared are derived once per server address and once per location.
const MAX_SERVERS_REMEMBERED = 256;
const servers = new Map<string, string>();
const paths = new WeakMap<KeyLocation, [string, string]>();

export function serverOf(address: string): string {
  let server = servers.get(address);
  if (server === undefined) {
    if (servers.size >= MAX_SERVERS_REMEMBERED) servers.clear(); // addresses come from tenants' specs
    server = normalizeAddress(address);
    servers.set(address, server);
  }
  return server;
}

/**
 * The paths under which the keys may lie on the server, each compared whole. Vault Enterprise reads
 * a request's namespace from X-Vault-Namespace and from the front of its path alike (namespace "a"
 * with mount "b/kv" may be namespace "a/b" with mount "kv"), so namespace, mount and prefix form one
 * path; Vault OSS ignores X-Vault-Namespace (a namespace "x" reaches the root's mounts), so the path
 * without the namespace counts too. Refusing a pair that would not really collide is the safe error.
 */
export function storagePaths(location: KeyLocation): [string, string] {
  let both = paths.get(location);
  if (!both) {
    both = [joinPath([location.vaultNamespace ?? '', location.mountPath, location.prefix]),
      joinPath([location.mountPath, location.prefix])];
    paths.set(location, both);
  }
  return both;
}

function storageOverlaps(a: KeyLocation, b: KeyLocation, compare: (x: string, y: string) => boolean): boolean {
  const [pa, qa] = storagePaths(a);
  const [pb, qb] = storagePaths(b);
  return compare(pa, pb) || compare(qa, qb);
}

function sameServer(a: KeyLocation, b: KeyLocation): boolean {
  return serverOf(a.address) === serverOf(b.address);
}

function isOlder(a: KeyLocation, b: KeyLocation): boolean {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt;
  return `${a.deployment.namespace}/${a.deployment.name}` < `${b.deployment.namespace}/${b.deployment.name}`;
}

function isSelf(a: KeyLocation, b: KeyLocation): boolean {
  return a.deployment.namespace === b.deployment.namespace && a.deployment.name === b.deployment.name;
}

/** The older deployment whose prefix equals, contains or lies inside this one's, if any. */
export function olderOverlap(self: KeyLocation, others: readonly KeyLocation[]): KeyLocation | undefined {
  return others
    .filter((other) =>
      !isSelf(self, other) && sameServer(self, other) && storageOverlaps(self, other, prefixesOverlap) &&
      isOlder(other, self)
    )
    .sort((a, b) => (isOlder(a, b) ? -1 : 1))[0];
}

export function describeOverlap(self: KeyLocation, owner: KeyLocation): string {
  const relation = storageOverlaps(self, owner, (a, b) => a === b)
    ? 'is already used by'
    : storageOverlaps(self, owner, isWithin)
    ? 'lies inside the prefix of'
    : 'contains the prefix of';
  return (
    `spec.vault.kv.prefix: "${self.mountPath}/${self.prefix}" ${relation} KMSDeployment ${owner.deployment.namespace}/${owner.deployment.name} ` +
    `("${owner.mountPath}/${owner.prefix}", created earlier); every KMSDeployment needs a prefix of its own, so re-create this one with another prefix`
  );
}

/** Another deployment with exactly this prefix: deleting "our" keys would delete its keys. */
export function sharesPrefix(self: KeyLocation, others: readonly KeyLocation[]): KeyLocation | undefined {
  return others.find((other) =>
    !isSelf(self, other) && sameServer(self, other) && storageOverlaps(self, other, (a, b) => a === b)
  );
}

/** The --vault-addresses entry that lets token auth use any server (one tenant per operator only). */
export const ANY_ADDRESS = '*';

/**
 * Why the operator may not contact this deployment's Vault, naming the field; undefined when it may.
 * `allowed` holds origins (--vault-addresses), possibly with ANY_ADDRESS. Every request carries a
 * credential: with Kubernetes auth the operator's own ServiceAccount token, so only a server listed
 * by name gets it ("*" does not count); with token auth the value of a Secret the tenant names, so an
 * unlisted server would be an SSRF target and a way to read any Secret of the namespace: token auth
 * too needs a listed server, or "*".
 */
export function addressNotAllowed(allowed: readonly string[], settings: Pick<VaultSettings, 'address' | 'auth'>):
  | string
  | undefined
{
  if (allowed.includes(settings.address)) return undefined;
  const named = allowed.filter((address) => address !== ANY_ADDRESS);
  const list = named.length > 0 ? named.join(', ') : 'none yet';
  if (settings.auth.method === 'kubernetes') {
    return (
      `spec.vault.address: "${settings.address}" is not a Vault server this operator sends its own ServiceAccount token to ` +
      `(spec.vault.auth.kubernetes); its administrator allows: ${list} (operator setting --vault-addresses); use one of those, or token auth with a token of your own`
    );
  }
  if (allowed.includes(ANY_ADDRESS)) return undefined;
  return `spec.vault.address: "${settings.address}" is not a Vault server this operator may contact; its administrator allows: ${list} (operator setting --vault-addresses)`;
}
