// The Secret `<name>-kes-vault-approle` that KES reads its AppRole login from, built from and
// read back into plain values. Secret values only ever go into `data`; annotations carry the
// non-secret accessor and expiry so rotation can be planned without reading Vault's secrets.
import { decodeSecretValue, encodeSecretData, opaqueSecret } from '../runtime/kube/secret-data.ts';
import { createHash } from 'node:crypto';
import { APPROLE_ANNOTATIONS, APPROLE_SECRET_KEYS, appRoleSecretName } from './names.ts';
import type { StoredCredentials } from './secret-id-plan.ts';

export interface SecretObject {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: unknown[];
  };
  type: 'Opaque';
  data: Record<string, string>;
}

export interface AppRoleSecretInput {
  deployment: { namespace: string; name: string };
  roleId: string;
  secretId: string;
  accessor: string;
  expiresAt: Date | undefined;
  previousAccessor: string | undefined;
  labels: Record<string, string>;
  ownerReferences: unknown[];
}

/** Changes whenever role-id or secret-id change; KES's pod template carries it to roll KES. */
export function appRoleChecksum(roleId: string, secretId: string): string {
  return createHash('sha256').update(`${roleId}\n${secretId}`).digest('hex');
}

export function buildAppRoleSecret(input: AppRoleSecretInput): SecretObject {
  const annotations: Record<string, string> = {
    [APPROLE_ANNOTATIONS.accessor]: input.accessor,
    [APPROLE_ANNOTATIONS.checksum]: appRoleChecksum(input.roleId, input.secretId),
  };
  if (input.expiresAt) annotations[APPROLE_ANNOTATIONS.expiresAt] = input.expiresAt.toISOString();
  // Always set, empty when no rotation is in progress: the reconcile applies children only when a field it
  // sets differs from the live object (src/runtime/subset.ts), so an annotation left out would never be removed
  // and the destroyed previous secret-id would stay recorded (found by the e2e rotation test).
  annotations[APPROLE_ANNOTATIONS.previousAccessor] = input.previousAccessor ?? '';
  const metadata = {
    name: appRoleSecretName(input.deployment.name),
    namespace: input.deployment.namespace,
    labels: { ...input.labels },
    annotations,
    ownerReferences: [...input.ownerReferences],
  };
  return opaqueSecret(metadata,
    encodeSecretData({ [APPROLE_SECRET_KEYS.roleId]: input.roleId, [APPROLE_SECRET_KEYS.secretId]: input.secretId }));
}

function decode(data: Record<string, string> | undefined, key: string): string | undefined {
  const value = data?.[key];
  return value === undefined ? undefined : decodeSecretValue(value);
}

function date(text: string | undefined): Date | undefined {
  if (!text) return undefined;
  const parsed = new Date(text);
  return Number.isNaN(parsed.getTime()) ? undefined : parsed;
}

/** The credentials of an existing Secret (as read from the API server), secret values included. */
export function readAppRoleSecret(
  secret: { metadata?: { annotations?: Record<string, string> }; data?: Record<string, string> } | undefined,
):
  | { stored: StoredCredentials; roleId: string | undefined; secretId: string | undefined;
    checksum: string | undefined }
  | undefined
{
  if (!secret) return undefined;
  const annotations = secret.metadata?.annotations ?? {};
  const roleId = decode(secret.data, APPROLE_SECRET_KEYS.roleId);
  const dataSecretId = decode(secret.data, APPROLE_SECRET_KEYS.secretId);
  // Data that no longer matches the checksum recorded when the operator wrote it was edited by
  // hand: its secret-id cannot be trusted, so it counts as missing and a new one is issued.
  const recorded = annotations[APPROLE_ANNOTATIONS.checksum];
  const edited = recorded !== undefined &&
    !(roleId && dataSecretId && appRoleChecksum(roleId, dataSecretId) === recorded);
  const secretId = edited ? undefined : dataSecretId;
  return {
    stored: {
      roleId,
      hasSecretId: Boolean(secretId),
      accessor: annotations[APPROLE_ANNOTATIONS.accessor] || undefined,
      expiresAt: date(annotations[APPROLE_ANNOTATIONS.expiresAt]),
      previousAccessor: annotations[APPROLE_ANNOTATIONS.previousAccessor] || undefined,
    },
    roleId,
    secretId,
    checksum: roleId && secretId ? appRoleChecksum(roleId, secretId) : undefined,
  };
}

const OWNED_ANNOTATIONS = Object.values(APPROLE_ANNOTATIONS);

/** True when applying `desired` would change `existing` (data, the operator's annotations, labels, owners). */
export function appRoleSecretDiffers(
  existing: {
    metadata?: { annotations?: Record<string, string>; labels?: Record<string, string>; ownerReferences?: unknown[] };
    data?: Record<string, string>;
  } | undefined,
  desired: SecretObject,
): boolean {
  if (!existing) return true;
  const have = existing.metadata?.annotations ?? {};
  const want = desired.metadata.annotations ?? {};
  if (OWNED_ANNOTATIONS.some((key) => have[key] !== want[key])) return true;
  const haveData = existing.data ?? {};
  const wantData = desired.data;
  if (Object.keys(haveData).length !== Object.keys(wantData).length) return true;
  if (Object.entries(wantData).some(([key, value]) => haveData[key] !== value)) return true;
  const labels = existing.metadata?.labels ?? {};
  if (Object.entries(desired.metadata.labels ?? {}).some(([key, value]) => labels[key] !== value)) return true;
  const owners = JSON.stringify(existing.metadata?.ownerReferences ?? []);
  return (desired.metadata.ownerReferences ?? []).some((owner) =>
    !owners.includes(JSON.stringify((owner as { uid?: string }).uid ?? ''))
  );
}
