// Stage 4 of the data path (VaultConfigured) and the Vault part of the finalizer, plugged into the
// runtime's Step / CleanupStep. The work is in src/vault; this file wires it to the step context:
// user Secrets are read from the API server, the AppRole Secret is declared as a child (so the
// runtime applies it only when it changed and owns it), and the KES rollout is read from the cache.
import { ConditionReason, EventReason } from '../../../api/reasons.ts';
import { ConditionType } from '../../../api/constants.ts';
import type { DefaultedKMSDeploymentSpec } from '../../../api/index.ts';
import { stackLabels } from '../../../workload/labels.ts';
import { readFresh } from '../../../runtime/cache.ts';
import { listNote } from '../../../runtime/events.ts';
import { ifControlledBy } from '../../../runtime/children.ts';
import type { KubeObject } from '../../../runtime/kube/resources.ts';
import type { CleanupContext, StepContext } from '../../../runtime/step.ts';
import { kesNames } from '../../../workload/names.ts';
import { cleanupVault, describeSkippedNames, describeVaultLeftovers } from '../../../vault/cleanup.ts';
import { type RecordedVaultNames, VAULT_NAME_CONFLICT } from '../../../vault/ownership.ts';
import { VaultClients } from '../../../vault/clients.ts';
import type { VaultDeps } from '../../../vault/connect.ts';
import { appRoleSecretName, DEFAULT_INSTANCE, SKIP_VAULT_CLEANUP_ANNOTATION } from '../../../vault/names.ts';
import type { VaultKubePort } from '../../../vault/ports.ts';
import { reconcileVault } from '../../../vault/reconcile.ts';
import { VaultSessions } from '../../../vault/session.ts';
import { resolveVaultSettings } from '../../../vault/settings.ts';
import { parsePrefixTemplate } from '../../../vault/tenancy.ts';
import { dataPathStep, type KMSDeploymentCleanup, type KMSDeploymentStep } from '../context.ts';
import type { KMSDeploymentObject } from '../status.ts';
import { keysNotOwned, refuseAddress, refuseVaultAccess, type VaultTenancy } from './vault-tenancy.ts';

export interface VaultStepOptions {
  /** The operator's ServiceAccount token file (default: the in-cluster path). */
  serviceAccountTokenPath?: string;
  /** Per-attempt Vault request timeout (default 10 s). */
  timeoutMs?: number;
  /** Which Vault servers and KV prefixes deployments may use (default: no listed server, instance "default" and its default template). */
  tenancy?: Partial<VaultTenancy>;
  /** CA bundles pinned per Vault origin (--vault-ca-files), used instead of spec.vault.tls. */
  pinnedCAs?: ReadonlyMap<string, string>;
}

/** Shared by the step and the cleanup so a login made while reconciling is reused for cleanup. */
export interface VaultRuntime {
  clients: VaultClients;
  sessions: VaultSessions;
  tenancy: VaultTenancy;
}

export function vaultRuntime(options: VaultStepOptions = {}): VaultRuntime {
  return {
    clients: new VaultClients({ timeoutMs: options.timeoutMs }, options.pinnedCAs),
    sessions: new VaultSessions({ serviceAccountTokenPath: options.serviceAccountTokenPath }),
    tenancy: {
      addresses: options.tenancy?.addresses ?? [],
      prefixRule: options.tenancy?.prefixRule ?? parsePrefixTemplate('', options.tenancy?.instance ?? DEFAULT_INSTANCE),
      instance: options.tenancy?.instance ?? DEFAULT_INSTANCE,
    },
  };
}

type Context = Pick<StepContext<KMSDeploymentObject, DefaultedKMSDeploymentSpec>, 'kube' | 'cache' | 'object'> & {
  children?: StepContext['children'];
};

function port(context: Context): VaultKubePort {
  return {
    // User Secrets are outside the label-narrowed caches (read from the API server), and the AppRole
    // Secret must be no older than this process's last write of it, or a secret-id issued a moment ago
    // would look like a stray and be destroyed (readFresh). An AppRole Secret this KMSDeployment does not
    // control is someone else's: its values are not ours.
    getSecret: async (namespace, name) => {
      const secret = await readFresh(context.cache, context.kube, 'Secret', namespace, name);
      return name === appRoleSecretName(context.object.metadata.name ?? '')
        ? ifControlledBy(secret, context.object)
        : secret;
    },
    applySecret: async (desired) => {
      if (!context.children) throw new Error('the AppRole Secret can only be declared during a reconcile');
      context.children.add(desired as unknown as KubeObject);
    },
    getKesDeployment: async (namespace, name) => context.cache.get('Deployment', namespace, kesNames(name).workload),
  };
}

function deps(runtime: VaultRuntime, context: Context): VaultDeps {
  return { clients: runtime.clients, sessions: runtime.sessions, kube: port(context) };
}

function ref(object: KMSDeploymentObject): { namespace: string; name: string; uid?: string } {
  return { namespace: object.metadata.namespace ?? '', name: object.metadata.name ?? '',
    ...(object.metadata.uid ? { uid: object.metadata.uid } : {}) };
}

/** status.vault as last written: while it names version 0.1 objects, they are still to be moved. */
function recordedNames(
  object: KMSDeploymentObject,
): (RecordedVaultNames & { kubernetesRoleMount?: string }) | undefined {
  return (object as { status?: { vault?: RecordedVaultNames & { kubernetesRoleMount?: string } } }).status?.vault;
}

export function vaultStep(runtime: VaultRuntime): KMSDeploymentStep {
  return dataPathStep('vault', ConditionType.VaultConfigured, async (context) => {
    const { spec, object } = context;
    if (spec.mode !== 'Vault') {
      return { status: 'True', reason: ConditionReason.NotUsed, message: `mode ${spec.mode} uses no Vault` };
    }
    let settings;
    try {
      settings = resolveVaultSettings(spec.vault, ref(object), runtime.tenancy.instance);
    } catch (err) {
      return { status: 'False', reason: ConditionReason.InvalidSpec, message: (err as Error).message };
    }
    // Before any Vault call: a refused deployment gets nothing granted, and nothing of it is revoked
    // either, so an administrator's change of the rules cannot cut running KES off at once.
    const refusal = refuseVaultAccess(runtime.tenancy, settings, object, context.cache);
    if (refusal) {
      await context.events.emit(object, { type: 'Warning', reason: refusal.reason, action: 'Configure',
        note: refusal.message });
      // An older owner of the prefix may go away; the template only changes with a restart.
      return { status: 'False', reason: refusal.reason, message: refusal.message,
        requeueAfterMs: refusal.reason === ConditionReason.PrefixInUse ? 60_000 : undefined };
    }
    const outcome = await reconcileVault(deps(runtime, context), {
      settings,
      labels: stackLabels(ref(object).name, 'kes'),
      ownerReferences: [],
      now: context.now,
      keyDeletionPolicy: spec.keyDeletionPolicy ?? 'Retain',
      recorded: recordedNames(object),
    });
    for (const change of outcome.changes) context.logger.info({ change }, 'vault change');
    if (outcome.changes.length > 0) {
      await context.events.emit(object, { type: 'Normal', reason: EventReason.VaultConfigured, action: 'Configure',
        note: listNote(outcome.changes) });
    }
    context.status['vault'] = outcome.status;
    if (outcome.appRoleChecksum) context.handoff.appRoleChecksum = outcome.appRoleChecksum;
    context.handoff.vaultRole = settings.objectName;
    const { status, reason, message } = outcome.condition;
    if (outcome.failed) {
      // The condition carries the actionable reason; the work queue's rate limiter times the retry.
      await context.events.emit(object, { type: 'Warning', reason, action: 'Configure', note: message });
      return { status, reason, message, retry: true };
    }
    return { status, reason, message, requeueAfterMs: outcome.requeueAfterMs };
  });
}

export function vaultCleanup(runtime: VaultRuntime): KMSDeploymentCleanup {
  return {
    name: 'vault',
    skipAnnotation: SKIP_VAULT_CLEANUP_ANNOTATION,
    async run(context: CleanupContext<KMSDeploymentObject, DefaultedKMSDeploymentSpec>): Promise<void> {
      const { spec, object } = context;
      if (!spec || spec.mode !== 'Vault') return;
      const settings = resolveVaultSettings(spec.vault, ref(object), runtime.tenancy.instance);
      const barred = refuseAddress(runtime.tenancy, settings);
      if (barred) {
        // Contacting it could hand the operator's credential to a server nobody vetted; the user
        // cannot change the list, so the deletion is not held up either.
        const leftovers = describeVaultLeftovers(settings, spec.keyDeletionPolicy ?? 'Retain');
        await context.events.emit(object, { type: 'Warning', reason: EventReason.CleanupSkipped, action: 'Cleanup',
          note: `vault cleanup skipped: ${barred.message}. ${leftovers}` });
        return;
      }
      let keyDeletionPolicy = spec.keyDeletionPolicy ?? 'Retain';
      const notOwned = keyDeletionPolicy === 'Delete'
        ? keysNotOwned(runtime.tenancy.prefixRule, settings, object, context.cache)
        : undefined;
      if (notOwned) {
        keyDeletionPolicy = 'Retain';
        await context.events.emit(object, { type: 'Warning', reason: EventReason.KeysRetained, action: 'Cleanup',
          note: `keyDeletionPolicy Delete not applied, the keys stay: ${notOwned}` });
      }
      const report = await cleanupVault(deps(runtime, context), settings, keyDeletionPolicy, context.now,
        recordedNames(object));
      for (const change of report.done) {
        await context.events.emit(object, { type: 'Normal', reason: EventReason.VaultCleanedUp, action: 'Cleanup',
          note: change });
      }
      if (report.skippedNames.length > 0) {
        await context.events.emit(object, { type: 'Warning', reason: EventReason.KeysSkipped, action: 'Cleanup',
          note: describeSkippedNames(settings, report.skippedNames) });
      }
      if (report.keysRetained) {
        await context.events.emit(object, { type: 'Warning', reason: EventReason.KeysRetained, action: 'Cleanup',
          note: `keyDeletionPolicy Delete not applied: ${report.keysRetained}` });
      }
      for (const note of report.kept) {
        await context.events.emit(object, { type: 'Warning', reason: VAULT_NAME_CONFLICT, action: 'Cleanup', note });
      }
    },
  };
}
