// The Vault part of one reconcile (guide steps 3.2-3.5): KV mount, AppRole mount, policy, role,
// secret-id and the AppRole Secret. Every item is read, compared, and written only when it differs,
// so a reconcile with nothing to change makes no Vault write.
import { appRoleSecretDiffers, buildAppRoleSecret, readAppRoleSecret } from './approle-secret.ts';
import { connectVault, MissingSecretError, type VaultDeps } from './connect.ts';
import { VaultRequestError } from './errors.ts';
import { planKvMount } from './kv-mount.ts';
import { appRoleSecretName } from './names.ts';
import * as vault from './operations.ts';
import { legacyObjectsPending, nameConflict, ownerRecord, type RecordedVaultNames, removeLegacyObjects,
  VAULT_NAME_CONFLICT } from './ownership.ts';
import { type KeyDeletionPolicy, renderKesPolicy } from './policy.ts';
import { KES_ROLL_POLL_MS, kesRunsOnChecksum } from './ports.ts';
import { desiredAppRoleRole, roleDifferences } from './role.ts';
import { planSecretIds } from './secret-id-plan.ts';
import type { KesAuthSettings, KvVersion, VaultSettings } from './settings.ts';
import type { VaultClient } from './client.ts';
import { ensureKesKubernetesRole, KesKubernetesRoleProblem } from './kes-kubernetes-role.ts';
import { recordedKubernetesMount, retireKubernetesRole, retireSecretIds } from './kes-login-switch.ts';
import { ConditionReason } from '../api/reasons.ts';

/** The reasons of VaultConfigured this library reports (constants of api/reasons.ts). */
export type VaultConditionReason = (typeof ConditionReason)[
  | 'Configured'
  | 'AuthFailed'
  | 'PermissionDenied'
  | 'Unreachable'
  | 'Sealed'
  | 'KVVersionMismatch'
  | 'KVMountMissing'
  | 'AppRoleMountConflict'
  | 'KubernetesAuthMountMissing'
  | 'SecretMissing'
  | 'VaultRedirectRefused'
  | 'VaultNameConflict'
  | 'VaultError'
];

/** How Vault stands for this deployment; the controller makes it the VaultConfigured condition. */
export interface VaultCondition {
  status: 'True' | 'False';
  reason: VaultConditionReason;
  message: string;
}

export interface VaultOutcome {
  condition: VaultCondition;
  /** For status.vault. */
  status: { policy: string; role: string; secretIDExpiresAt?: string; kvVersion?: KvVersion;
    kesAuth: KesAuthSettings['method']; kubernetesRoleMount?: string };
  /**
   * For the KES pod template (`kmsstack.io/vault-approle-checksum`): the AppRole Secret's checksum, or
   * with Kubernetes auth a checksum of the login settings; a change rolls KES.
   */
  appRoleChecksum: string | undefined;
  /** The delay after which to look again (rotation due, waiting for KES to roll). */
  requeueAfterMs: number | undefined;
  /** The step failed; the runtime retries with backoff. */
  failed: boolean;
  /** Changes made in Vault and to the Secret, for events; never secret values. */
  changes: string[];
}

export interface VaultReconcileInput {
  settings: VaultSettings;
  /** Labels and owner references for the AppRole Secret. */
  labels: Record<string, string>;
  ownerReferences: unknown[];
  now: Date;
  /** spec.keyDeletionPolicy (default Retain): the KES policy grants delete only under Delete. */
  keyDeletionPolicy?: KeyDeletionPolicy;
  /** status.vault as last written: names a version 0.1 policy/role still to be moved, and KES's Kubernetes role. */
  recorded?: RecordedVaultNames & { kubernetesRoleMount?: string };
}

class StepFailure extends Error {
  constructor(
    readonly reason: VaultConditionReason,
    message: string,
  ) {
    super(message);
  }
}

export async function reconcileVault(deps: VaultDeps, input: VaultReconcileInput): Promise<VaultOutcome> {
  const { settings, now } = input;
  const changes: string[] = [];
  const legacy = settings.legacyObjectName;
  // Until the move is done, status keeps naming the 0.1 objects: it is what says they are to be moved.
  const migrating = legacyObjectsPending(settings, input.recorded);
  const names = migrating
    ? { policy: legacy, role: legacy }
    : { policy: settings.objectName, role: settings.objectName };
  const status: VaultOutcome['status'] = { ...names, kesAuth: settings.kesAuth.method,
    ...recordedKubernetesMount(input.recorded) };
  let token: string | undefined;
  let client: VaultClient | undefined;
  try {
    ({ client, token } = await connectVault(deps, settings, now));
    status.kvVersion = await ensureKvMount(client, token, settings, changes);
    await ensureAppRoleMount(client, token, settings, changes);
    const conflict = await nameConflict(client, token, settings);
    if (conflict) throw new StepFailure(VAULT_NAME_CONFLICT, conflict);
    await ensurePolicy(client, token, settings, input.keyDeletionPolicy ?? 'Retain', changes);
    await ensureRole(client, token, settings, changes);
    await ensureKesKubernetesRole(client, token, settings, changes);
    const credentials = settings.kesAuth.method === 'Kubernetes'
      ? await retireSecretIds(deps, client, token, input, changes)
      : await ensureSecretId(deps, client, token, input, changes);
    const kubernetesRole = await retireKubernetesRole(deps, client, token, input, credentials.checksum, changes);
    if (kubernetesRole.mount) status.kubernetesRoleMount = kubernetesRole.mount;
    else delete status.kubernetesRoleMount;
    credentials.waiting = [credentials.waiting, kubernetesRole.waiting].filter(Boolean).join('; ') || undefined;
    if (kubernetesRole.waiting) {
      credentials.requeueAfterMs = Math.min(credentials.requeueAfterMs ?? KES_ROLL_POLL_MS, KES_ROLL_POLL_MS);
    }
    if (migrating) {
      const moved = await moveFromLegacyNames(deps, client, token, settings, credentials.checksum, changes);
      if (moved.done) Object.assign(status, { policy: settings.objectName, role: settings.objectName });
      credentials.waiting = [credentials.waiting, moved.note].filter(Boolean).join('; ') || undefined;
      if (!moved.done) {
        credentials.requeueAfterMs = Math.min(credentials.requeueAfterMs ?? KES_ROLL_POLL_MS, KES_ROLL_POLL_MS);
      }
    }
    if (credentials.expiresAt) status.secretIDExpiresAt = credentials.expiresAt.toISOString();
    const expiry = credentials.expiresAt ? `; the secret-id expires at ${credentials.expiresAt.toISOString()}` : '';
    return {
      condition: {
        status: 'True',
        reason: 'Configured',
        message: `policy and ${
          settings.kesAuth.method === 'Kubernetes'
            ? `Kubernetes role (ServiceAccount ${settings.kesAuth.serviceAccount})`
            : 'AppRole role'
        } ${settings.objectName} grant KES ${settings.kv.mountPath}/${settings.kv.prefix} (KV ${settings.kv.version})${expiry}${
          credentials.waiting ? `; ${credentials.waiting}` : ''
        }`,
      },
      status,
      appRoleChecksum: credentials.checksum,
      requeueAfterMs: credentials.requeueAfterMs,
      failed: false,
      changes,
    };
  } catch (err) {
    const failure = await explain(deps, settings, client, token, err);
    return {
      condition: { status: 'False', reason: failure.reason, message: failure.message },
      status,
      appRoleChecksum: undefined,
      requeueAfterMs: undefined,
      failed: true,
      changes,
    };
  }
}

async function ensureKvMount(client: VaultClient, token: string, settings: VaultSettings,
  changes: string[]): Promise<KvVersion>
{
  const { mountPath, version, create } = settings.kv;
  const plan = planKvMount(await vault.readSecretsMount(client, token, mountPath), { version, create });
  if (plan.action === 'mismatch') {
    throw new StepFailure('KVVersionMismatch',
      `the mount ${mountPath} is ${plan.found} but spec.vault.kv.version is ${version}; nothing was changed in Vault`);
  }
  if (plan.action === 'missing') {
    throw new StepFailure('KVMountMissing',
      `no secrets engine is mounted at ${mountPath} and spec.vault.kv.create is false; enable KV ${version} there or set create: true`);
  }
  if (plan.action === 'create') {
    try {
      await vault.enableSecretsMount(client, token, mountPath, plan.body);
      changes.push(`enabled KV ${version} at ${mountPath}`);
    } catch (err) {
      // KMSDeployments share the mount: another reconcile may have enabled it since the read. That is success.
      const now = planKvMount(await vault.readSecretsMount(client, token, mountPath), { version, create });
      if (now.action !== 'none') throw err;
    }
  }
  return version;
}

async function ensureAppRoleMount(client: VaultClient, token: string, settings: VaultSettings,
  changes: string[]): Promise<void>
{
  const { mountPath } = settings.appRole;
  const mount = await vault.readAuthMount(client, token, mountPath);
  if (mount && mount.type !== 'approle') {
    throw new StepFailure('AppRoleMountConflict',
      `auth/${mountPath} is a "${mount.type}" auth method, not AppRole; set spec.vault.appRole.mountPath to another path`);
  }
  if (!mount) {
    try {
      await vault.enableAuthMount(client, token, mountPath, 'approle');
      changes.push(`enabled AppRole auth at auth/${mountPath}`);
    } catch (err) {
      // Shared like the KV mount: enabled by another reconcile since the read, it is what we wanted.
      if ((await vault.readAuthMount(client, token, mountPath))?.type !== 'approle') throw err;
    }
  }
}

/**
 * Upgrade from version 0.1 names: once KES runs on the credentials of the new role (issued above),
 * the old role and policy go, if they are provably this deployment's (src/vault/ownership.ts).
 */
async function moveFromLegacyNames(
  deps: VaultDeps,
  client: VaultClient,
  token: string,
  settings: VaultSettings,
  checksum: string,
  changes: string[],
): Promise<{ done: boolean; note: string | undefined }> {
  const { namespace, name } = settings.deployment;
  if (!kesRunsOnChecksum(await deps.kube.getKesDeployment(namespace, name), checksum)) {
    return { done: false,
      note:
        `the version 0.1 policy and AppRole role ${settings.legacyObjectName} stay until KES has rolled to ${settings.objectName}` };
  }
  const { done, kept } = await removeLegacyObjects(client, token, settings);
  changes.push(...done, ...kept);
  return { done: true, note: kept.length ? kept.join('; ') : undefined };
}

/** Writes the KES policy when the stored one differs; also used by the finalizer before it deletes keys. */
export async function ensurePolicy(client: VaultClient, token: string, settings: VaultSettings,
  keyDeletionPolicy: KeyDeletionPolicy, changes: string[]): Promise<void>
{
  const policy = renderKesPolicy({
    deployment: settings.deployment,
    owner: ownerRecord(settings),
    kvMountPath: settings.kv.mountPath,
    kvVersion: settings.kv.version,
    prefix: settings.kv.prefix,
    allowKeyDeletion: keyDeletionPolicy === 'Delete',
  });
  const stored = await vault.readPolicy(client, token, settings.objectName);
  if (stored === policy) return;
  await vault.writePolicy(client, token, settings.objectName, policy);
  changes.push(`${stored === undefined ? 'created' : 'updated'} policy ${settings.objectName}`);
}

async function ensureRole(client: VaultClient, token: string, settings: VaultSettings,
  changes: string[]): Promise<void>
{
  const { mountPath, tokenTTLSeconds, tokenMaxTTLSeconds, secretIDTTLSeconds } = settings.appRole;
  const desired = desiredAppRoleRole({ policyName: settings.objectName, tokenTTLSeconds, tokenMaxTTLSeconds,
    secretIDTTLSeconds });
  const stored = await vault.readRole(client, token, mountPath, settings.objectName);
  const differences = roleDifferences(stored, desired);
  if (differences.length === 0) return;
  await vault.writeRole(client, token, mountPath, settings.objectName, { ...desired });
  changes.push(
    stored
      ? `updated AppRole role ${settings.objectName} (${differences.join(', ')})`
      : `created AppRole role ${settings.objectName}`,
  );
}

async function ensureSecretId(
  deps: VaultDeps,
  client: VaultClient,
  token: string,
  input: VaultReconcileInput,
  changes: string[],
): Promise<
  { checksum: string; expiresAt: Date | undefined; requeueAfterMs: number | undefined; waiting: string | undefined }
> {
  const { settings, now } = input;
  const { namespace, name } = settings.deployment;
  const { mountPath, secretIDRenewBeforeSeconds } = settings.appRole;
  const role = settings.objectName;
  const roleId = await vault.readRoleId(client, token, mountPath, role);
  const existing = await deps.kube.getSecret(namespace, appRoleSecretName(name));
  const current = readAppRoleSecret(existing);
  const accessors = await vault.listSecretIdAccessors(client, token, mountPath, role);
  // Expiry is known for the Secret's own secret-id (recorded at issue time), so no per-accessor lookup
  // (a POST, i.e. an audited write) is needed; any other accessor is treated as live until destroyed.
  const listed = accessors.map((accessor) => ({ accessor,
    expiresAt: accessor === current?.stored.accessor ? current.stored.expiresAt : undefined })
  );
  const kesOnCurrent = current?.checksum
    ? kesRunsOnChecksum(await deps.kube.getKesDeployment(namespace, name), current.checksum)
    : true;
  const plan = planSecretIds({ now, renewBeforeSeconds: secretIDRenewBeforeSeconds, roleId, stored: current?.stored,
    listed, kesOnCurrent });

  for (const { accessor, why } of plan.destroy) {
    await vault.destroySecretIdByAccessor(client, token, mountPath, role, accessor);
    changes.push(`destroyed secret-id ${accessor} of ${role} (${why})`);
  }
  let values: { secretId: string; accessor: string; expiresAt: Date | undefined };
  if (plan.issue) {
    const issued = await vault.generateSecretId(client, token, mountPath, role, {
      kmsstack_deployment: `${namespace}/${name}`,
    });
    values = { secretId: issued.secretId, accessor: issued.accessor,
      expiresAt: issued.ttlSeconds > 0 ? new Date(now.getTime() + issued.ttlSeconds * 1000) : undefined };
    changes.push(`issued secret-id ${issued.accessor} for ${role} (${plan.issueWhy ?? 'rotation'})`);
  } else {
    values = { secretId: current?.secretId as string, accessor: current?.stored.accessor as string,
      expiresAt: current?.stored.expiresAt };
  }
  const desired = buildAppRoleSecret({
    deployment: settings.deployment,
    roleId,
    ...values,
    previousAccessor: plan.previousAccessor,
    labels: input.labels,
    ownerReferences: input.ownerReferences,
  });
  const differs = appRoleSecretDiffers(existing, desired);
  await deps.kube.applySecret(desired, existing);
  if (differs) changes.push(`${existing ? 'updated' : 'created'} Secret ${namespace}/${desired.metadata.name}`);
  const renewAt = values.expiresAt && new Date(values.expiresAt.getTime() - secretIDRenewBeforeSeconds * 1000);
  const delays = [renewAt ? Math.max(1000, renewAt.getTime() - now.getTime()) : undefined,
    plan.previousAccessor ? KES_ROLL_POLL_MS : undefined];
  const defined = delays.filter((d): d is number => d !== undefined);
  return {
    checksum: desired.metadata.annotations?.['kmsstack.io/approle-checksum'] as string,
    expiresAt: values.expiresAt,
    requeueAfterMs: defined.length ? Math.min(...defined) : undefined,
    waiting: plan.waiting ??
      (plan.previousAccessor
        ? `the previous secret-id ${plan.previousAccessor} stays until KES has rolled`
        : undefined),
  };
}

const DIRECT_REASONS = new Set<string>(['AuthFailed', 'PermissionDenied', 'Unreachable', 'Sealed']);

/** The condition reason and message for a failure; a refused token is forgotten so the next try logs in. */
async function explain(
  deps: VaultDeps,
  settings: VaultSettings,
  client: VaultClient | undefined,
  token: string | undefined,
  err: unknown,
): Promise<{ reason: VaultConditionReason; message: string }> {
  if (err instanceof StepFailure || err instanceof KesKubernetesRoleProblem) {
    return { reason: err.reason, message: err.message };
  }
  if (err instanceof MissingSecretError) return { reason: 'SecretMissing', message: err.message };
  if (!(err instanceof VaultRequestError)) throw err;
  const { namespace, name } = settings.deployment;
  if (err.reason === 'AuthFailed') deps.sessions.forget(namespace, name);
  // Vault answers 403 both for a missing capability and for an expired or revoked token: tell them apart.
  if (err.reason === 'PermissionDenied' && client && token) {
    try {
      await vault.lookupSelf(client, token);
    } catch (lookupErr) {
      if (lookupErr instanceof VaultRequestError && lookupErr.reason === 'AuthFailed') {
        deps.sessions.forget(namespace, name);
        return { reason: 'AuthFailed',
          message:
            `${err.operation}: the operator's Vault token is no longer valid; logging in again on the next try` };
      }
    }
  }
  if (err.reason === 'RedirectRefused') return { reason: 'VaultRedirectRefused', message: err.message };
  return { reason: DIRECT_REASONS.has(err.reason) ? (err.reason as VaultConditionReason) : 'VaultError',
    message: err.message };
}
