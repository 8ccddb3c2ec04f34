// When the credentials of one KMSDeployment expire and when the operator renews them, read from what
// the reconcile already keeps: its status (CA expiry, secret-id expiry), its spec (renewBefore,
// validity, secret-id TTL) and the PKI Secrets it owns as the informer cache holds them. No API call:
// this runs at scrape time. A certificate is parsed once per Secret resourceVersion.
import { X509Certificate } from 'node:crypto';
import { applyDefaults, type DefaultedKMSDeploymentSpec, durationMs, type KMSDeploymentSpec } from '../../api/index.ts';
// Not the pki barrel: it would load the certificate code (ASN.1) into an operator that only exports metrics.
import { type LeafKind, pkiSecretNames } from '../../pki/names.ts';
import { caRotationLeadMs, pkiPolicyFor } from '../../pki/policy.ts';
import { decodeSecretData } from '../../runtime/kube/secret-data.ts';
import { ifControlledBy } from '../../runtime/children.ts';
import type { KubeObject } from '../../runtime/kube/resources.ts';

export type SecretLookup = (namespace: string, name: string) => KubeObject | undefined;

/** The `certificate` label: bounded, the same five for every deployment. */
export const CERTIFICATE_LABELS: Record<LeafKind | 'ca', string> = {
  ca: 'ca',
  kesServer: 'kes-server',
  minioClient: 'minio-client',
  operatorClient: 'operator-client',
  minioServer: 'minio-server',
};

/** Unix seconds; notBefore and renewal are absent where they are unknown (a CA the user brings). */
export interface CredentialTimes {
  notBefore?: number;
  expiration: number;
  renewal?: number;
}

export interface DeploymentExpiries {
  certificates: Map<string, CredentialTimes>;
  secretId?: CredentialTimes & { ttlSeconds?: number };
}

interface ExpiryStatusView {
  certificates?: { caNotAfter?: unknown };
  vault?: { secretIDExpiresAt?: unknown };
}

export function unixSeconds(time: unknown): number | undefined {
  const ms = typeof time === 'string' ? Date.parse(time) : NaN;
  return Number.isNaN(ms) ? undefined : ms / 1000;
}

/** Cached specs are replaced, never changed in place: one defaulting per spec object. */
const defaulted = new WeakMap<object, DefaultedKMSDeploymentSpec | null>();

/** The spec with its defaults, or undefined when it cannot be read (the status then says why). */
function defaultedSpec(object: KubeObject): DefaultedKMSDeploymentSpec | undefined {
  const spec = (object as { spec?: unknown }).spec;
  if (spec === null || typeof spec !== 'object') return undefined;
  let result = defaulted.get(spec);
  if (result === undefined) {
    try {
      result = applyDefaults(spec as KMSDeploymentSpec);
    } catch {
      result = null;
    }
    defaulted.set(spec, result);
  }
  return result ?? undefined;
}

function durationSeconds(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const ms = durationMs(text);
    return Number.isFinite(ms) ? ms / 1000 : undefined;
  } catch {
    return undefined;
  }
}

const parsed = new Map<string, { version: string; notBefore: number; notAfter: number }>();

const memoKey = (secret: KubeObject): string =>
  secret.metadata.uid ?? `${secret.metadata.namespace}/${secret.metadata.name}`;

/** notBefore/notAfter of the certificate in a cached Secret's tls.crt; memoised by uid and resourceVersion. */
function certificateTimes(secret: KubeObject): { notBefore: number; notAfter: number } | undefined {
  const key = memoKey(secret);
  const version = secret.metadata.resourceVersion ?? '';
  const known = parsed.get(key);
  if (known?.version === version) return known;
  const pem = decodeSecretData((secret as { data?: Record<string, string> }).data)?.['tls.crt'];
  if (!pem) return undefined;
  try {
    // Node's own parser: only the validity is needed here, and a scrape must stay cheap (the PKI
    // step's full inspection, pki/inspect.ts, costs about a millisecond per certificate).
    const certificate = new X509Certificate(pem);
    const times = { version, notBefore: certificate.validFromDate.getTime() / 1000,
      notAfter: certificate.validToDate.getTime() / 1000 };
    parsed.set(key, times);
    return times;
  } catch {
    return undefined; // the PKI step reports an unreadable certificate and replaces it
  }
}

/** Forgets parsed certificates of Secrets no longer seen (called after each scrape with the Secrets seen). */
export function forgetCertificatesExcept(seen: ReadonlySet<string>): void {
  for (const key of parsed.keys()) if (!seen.has(key)) parsed.delete(key);
}

/**
 * Expiry and renewal times of the CA, the three leaf certificates and the secret-id of `object`.
 * `seenSecrets` collects the Secrets read, so the parse memo can be pruned.
 */
export function deploymentExpiries(object: KubeObject, secret: SecretLookup | undefined,
  seenSecrets: Set<string>): DeploymentExpiries
{
  const status = ((object as { status?: ExpiryStatusView }).status ?? {}) as ExpiryStatusView;
  const spec = defaultedSpec(object);
  const namespace = object.metadata.namespace ?? '';
  const names = pkiSecretNames(object.metadata.name ?? '');
  const certificates = new Map<string, CredentialTimes>();
  const renewBefore = durationSeconds(spec?.tls.renewBefore);
  const validity = durationSeconds(spec?.tls.validity);

  const owned = (name: string): { notBefore: number; notAfter: number } | undefined => {
    const found = ifControlledBy(secret?.(namespace, name), object);
    if (!found) return undefined;
    seenSecrets.add(memoKey(found));
    return certificateTimes(found);
  };

  // The CA: the operator's own (rotated caRotationLeadMs before its end), else the user's (never renewed here).
  const userCA = spec?.tls.caSecretRef !== undefined;
  const ownCA = userCA ? undefined : owned(names.ca);
  if (ownCA) {
    const lead = validity !== undefined && renewBefore !== undefined
      ? caRotationLeadMs(pkiPolicyFor({ validityMs: validity * 1000, renewBeforeMs: renewBefore * 1000 })) / 1000
      : undefined;
    certificates.set(CERTIFICATE_LABELS.ca, { notBefore: ownCA.notBefore, expiration: ownCA.notAfter,
      ...(lead !== undefined ? { renewal: ownCA.notAfter - lead } : {}) });
  } else if (userCA || !secret) {
    // Not while the operator's own CA Secret is missing from the cache: without a renewal time it
    // would pass for a CA nobody renews (KMSStackCertificateExpiringUnmanaged).
    const caExpiry = unixSeconds(status.certificates?.caNotAfter);
    if (caExpiry !== undefined) certificates.set(CERTIFICATE_LABELS.ca, { expiration: caExpiry });
  }
  for (const kind of Object.keys(names.leaves) as LeafKind[]) {
    const leaf = owned(names.leaves[kind]);
    if (!leaf) continue;
    certificates.set(CERTIFICATE_LABELS[kind], { notBefore: leaf.notBefore, expiration: leaf.notAfter,
      ...(renewBefore !== undefined ? { renewal: leaf.notAfter - renewBefore } : {}) });
  }

  const secretIdExpiry = unixSeconds(status.vault?.secretIDExpiresAt);
  if (secretIdExpiry === undefined) return { certificates };
  const appRole = spec?.vault?.appRole;
  const secretIdRenewBefore = durationSeconds(appRole?.secretIDRenewBefore);
  const ttlSeconds = durationSeconds(appRole?.secretIDTTL);
  return {
    certificates,
    secretId: {
      expiration: secretIdExpiry,
      ...(secretIdRenewBefore !== undefined ? { renewal: secretIdExpiry - secretIdRenewBefore } : {}),
      ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
    },
  };
}
