// The Vault part of a KMSDeployment spec, checked and defaulted into the settings every other
// module of src/vault works from. Pure: spec in, settings out, errors name the field path.
// The CRD schema checks the same rules; they are repeated here because Vault paths end up inside
// policy text, where a stray "*" or quote would widen what KES may touch.
import { parseDuration, type VaultSpec } from '../api/index.ts';
import { kesNames } from '../workload/names.ts';
import { DEFAULT_INSTANCE, legacyVaultObjectName, vaultObjectName } from './names.ts';

export type { VaultSpec };
export type KvVersion = 'v1' | 'v2';

export type VaultAuthSettings =
  | { method: 'kubernetes'; role: string; mountPath: string }
  | { method: 'token'; secretName: string; secretKey: string };

/** How KES logs in to Vault (spec.vault.kesAuth); the Kubernetes role is named objectName too. */
export type KesAuthSettings =
  | { method: 'AppRole' }
  | { method: 'Kubernetes'; mountPath: string; audience: string; serviceAccount: string;
    tokenExpirationSeconds: number };

export interface VaultSettings {
  /** The KMSDeployment these settings belong to (uid: recorded as the owner of its Vault objects). */
  deployment: { namespace: string; name: string; uid?: string };
  /** The operator instance (--instance-name) whose Vault objects these are. */
  instance: string;
  address: string;
  vaultNamespace: string | undefined;
  ca: { secretName: string; secretKey: string } | undefined;
  /** Host name to verify in Vault's certificate instead of the address's host. */
  tlsServerName: string | undefined;
  auth: VaultAuthSettings;
  kv: { mountPath: string; version: KvVersion; prefix: string; create: boolean };
  appRole: {
    mountPath: string;
    tokenTTLSeconds: number;
    tokenMaxTTLSeconds: number;
    secretIDTTLSeconds: number;
    secretIDRenewBeforeSeconds: number;
  };
  kesAuth: KesAuthSettings;
  /** `kmsstack_<instance>_<namespace>_<name>`: the policy, the AppRole role and KES's Kubernetes role share it. */
  objectName: string;
  /** `kmsstack-<namespace>-<name>` of version 0.1, moved to objectName on upgrade. */
  legacyObjectName: string;
}

/** The CRD's defaults (src/api/schema/vault.ts), for specs that did not go through applyDefaults. */
export const VAULT_DEFAULTS = {
  caKey: 'ca.crt',
  tokenKey: 'token',
  kubernetesMountPath: 'kubernetes',
  kvMountPath: 'kv',
  kvVersion: 'v1' as KvVersion,
  kvCreate: true,
  appRoleMountPath: 'approle',
  kesKubernetesMountPath: 'kubernetes',
  kesKubernetesAudience: 'vault',
  kesKubernetesTokenExpiration: '1h',
  tokenTTL: '5m',
  tokenMaxTTL: '1h',
  secretIDTTL: '24h',
  secretIDRenewBefore: '8h',
} as const;

// Characters that would change the meaning of an ACL path: glob and segment wildcards, quotes,
// whitespace and anything HCL would interpret.
const VAULT_PATH_RE = /^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/;

/** A Vault path made of plain segments, with leading/trailing slashes removed. */
export function checkVaultPath(value: string, field: string): string {
  const path = value.replace(/^\/+|\/+$/g, '');
  if (path === '') throw new Error(`${field}: must not be empty`);
  if (!VAULT_PATH_RE.test(path)) {
    throw new Error(
      `${field}: "${value}" must be slash-separated segments of letters, digits, ".", "_" or "-" (no "*", "+", spaces or quotes)`,
    );
  }
  if (path.split('/').some((segment) => segment === '.' || segment === '..')) {
    throw new Error(`${field}: "${value}" must not contain "." or ".." segments`);
  }
  return path;
}

/** The origin (scheme://host:port) of a Vault address; throws naming spec.vault.address. */
export function checkAddress(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`spec.vault.address: "${value}" is not a URL like https://vault.vault.svc:8200`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`spec.vault.address: scheme must be https (or http for tests), got "${url.protocol}"`);
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    throw new Error('spec.vault.address: give only scheme, host and port (no path, query or credentials)');
  }
  return `${url.protocol}//${url.host}`;
}

function checkKesAuth(spec: VaultSpec, deploymentName: string): KesAuthSettings {
  const method = spec.kesAuth ?? 'AppRole';
  if (method === 'AppRole') return { method };
  if (method !== 'Kubernetes') {
    throw new Error(`spec.vault.kesAuth: must be AppRole or Kubernetes, got "${String(method)}"`);
  }
  const k8s = spec.kesKubernetes ?? {};
  const audience = k8s.audience ?? VAULT_DEFAULTS.kesKubernetesAudience;
  if (!/^[A-Za-z0-9_.-]+$/.test(audience)) {
    throw new Error(`spec.vault.kesKubernetes.audience: "${audience}" must be letters, digits, "-", "_" and "."`);
  }
  const tokenExpirationSeconds = durationSeconds(k8s.tokenExpiration ?? VAULT_DEFAULTS.kesKubernetesTokenExpiration,
    'spec.vault.kesKubernetes.tokenExpiration');
  if (tokenExpirationSeconds < 600 || tokenExpirationSeconds > 86_400) {
    throw new Error('spec.vault.kesKubernetes.tokenExpiration: must be between 10m and 24h');
  }
  return {
    method,
    mountPath: checkVaultPath(k8s.mountPath ?? VAULT_DEFAULTS.kesKubernetesMountPath,
      'spec.vault.kesKubernetes.mountPath'),
    audience,
    serviceAccount: kesNames(deploymentName).serviceAccount,
    tokenExpirationSeconds,
  };
}

function checkAuth(auth: VaultSpec['auth'] | undefined): VaultAuthSettings {
  const kubernetes = auth?.kubernetes;
  const token = auth?.token;
  if (kubernetes && token) throw new Error('spec.vault.auth: set exactly one of kubernetes or token, not both');
  if (kubernetes) {
    if (!kubernetes.role) throw new Error('spec.vault.auth.kubernetes.role: must name the Vault role of the operator');
    return {
      method: 'kubernetes',
      role: kubernetes.role,
      mountPath: checkVaultPath(kubernetes.mountPath ?? VAULT_DEFAULTS.kubernetesMountPath,
        'spec.vault.auth.kubernetes.mountPath'),
    };
  }
  if (token) {
    if (!token.secretRef?.name) {
      throw new Error('spec.vault.auth.token.secretRef.name: must name a Secret in the same namespace');
    }
    return { method: 'token', secretName: token.secretRef.name,
      secretKey: token.secretRef.key ?? VAULT_DEFAULTS.tokenKey };
  }
  throw new Error('spec.vault.auth: set one of kubernetes or token');
}

/** Whole seconds of a Go-style duration ("90s", "1h30m"); Vault TTLs have no finer unit. */
export function durationSeconds(text: string, field: string): number {
  const ms = text === '0' ? 0 : parseDuration(text);
  if (ms === undefined) throw new Error(`${field}: "${text}" is not a duration; write it like 90s, 5m, 1h30m or 24h`);
  if (ms % 1000 !== 0) throw new Error(`${field}: "${text}" must be whole seconds (Vault TTLs have no finer unit)`);
  return ms / 1000;
}

function seconds(value: string | undefined, fallback: string, field: string): number {
  return durationSeconds(value ?? fallback, field);
}

/** Checks and defaults `spec.vault` of the KMSDeployment `namespace/name` for the operator instance `instance`. */
export function resolveVaultSettings(
  spec: VaultSpec | undefined,
  deployment: { namespace: string; name: string; uid?: string },
  instance: string = DEFAULT_INSTANCE,
): VaultSettings {
  if (!spec) throw new Error('spec.vault: is required unless the deployment runs without Vault');
  if (!spec.address) throw new Error('spec.vault.address: is required');
  const kvVersion = spec.kv?.version ?? VAULT_DEFAULTS.kvVersion;
  if (kvVersion !== 'v1' && kvVersion !== 'v2') {
    throw new Error(`spec.vault.kv.version: must be v1 or v2, got "${String(kvVersion)}"`);
  }
  const appRole = spec.appRole ?? {};
  const tokenTTLSeconds = seconds(appRole.tokenTTL, VAULT_DEFAULTS.tokenTTL, 'spec.vault.appRole.tokenTTL');
  const tokenMaxTTLSeconds = seconds(appRole.tokenMaxTTL, VAULT_DEFAULTS.tokenMaxTTL, 'spec.vault.appRole.tokenMaxTTL');
  const secretIDTTLSeconds = seconds(appRole.secretIDTTL, VAULT_DEFAULTS.secretIDTTL, 'spec.vault.appRole.secretIDTTL');
  const secretIDRenewBeforeSeconds = seconds(appRole.secretIDRenewBefore, VAULT_DEFAULTS.secretIDRenewBefore,
    'spec.vault.appRole.secretIDRenewBefore');
  if (tokenTTLSeconds <= 0) throw new Error('spec.vault.appRole.tokenTTL: must be longer than 0s');
  if (tokenMaxTTLSeconds !== 0 && tokenMaxTTLSeconds < tokenTTLSeconds) {
    throw new Error('spec.vault.appRole.tokenMaxTTL: must be at least tokenTTL (or 0 for the Vault mount maximum)');
  }
  if (secretIDTTLSeconds <= 0) {
    throw new Error('spec.vault.appRole.secretIDTTL: must be longer than 0s so the secret-id can be rotated');
  }
  if (secretIDRenewBeforeSeconds <= 0 || secretIDRenewBeforeSeconds >= secretIDTTLSeconds) {
    throw new Error('spec.vault.appRole.secretIDRenewBefore: must be longer than 0s and shorter than secretIDTTL');
  }
  const caRef = spec.tls?.caSecretRef;
  if (caRef && !caRef.name) {
    throw new Error('spec.vault.tls.caSecretRef.name: must name a Secret in the same namespace');
  }
  if (!spec.kv?.prefix) {
    throw new Error(
      "spec.vault.kv.prefix: is required; it is the path under the mount that holds only this deployment's keys",
    );
  }
  if (spec.namespace !== undefined && spec.namespace !== '') checkVaultPath(spec.namespace, 'spec.vault.namespace');
  return {
    deployment: { namespace: deployment.namespace, name: deployment.name,
      ...(deployment.uid ? { uid: deployment.uid } : {}) },
    instance,
    address: checkAddress(spec.address),
    vaultNamespace: spec.namespace ? spec.namespace.replace(/^\/+|\/+$/g, '') : undefined,
    ca: caRef ? { secretName: caRef.name, secretKey: caRef.key ?? VAULT_DEFAULTS.caKey } : undefined,
    tlsServerName: spec.tls?.serverName || undefined,
    auth: checkAuth(spec.auth),
    kv: {
      mountPath: checkVaultPath(spec.kv?.mountPath ?? VAULT_DEFAULTS.kvMountPath, 'spec.vault.kv.mountPath'),
      version: kvVersion,
      prefix: checkVaultPath(spec.kv.prefix, 'spec.vault.kv.prefix'),
      create: spec.kv.create ?? VAULT_DEFAULTS.kvCreate,
    },
    appRole: {
      mountPath: checkVaultPath(appRole.mountPath ?? VAULT_DEFAULTS.appRoleMountPath, 'spec.vault.appRole.mountPath'),
      tokenTTLSeconds,
      tokenMaxTTLSeconds,
      secretIDTTLSeconds,
      secretIDRenewBeforeSeconds,
    },
    kesAuth: checkKesAuth(spec, deployment.name),
    objectName: vaultObjectName(deployment.namespace, deployment.name, instance),
    legacyObjectName: legacyVaultObjectName(deployment.namespace, deployment.name),
  };
}
