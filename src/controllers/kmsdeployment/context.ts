// What every step of the KMSDeployment controller works with: the typed step context (with the values
// one step hands to the next), the environment of a reconcile, and the few readers every step uses.
// Steps import this module and nothing of each other; reconcile.ts and data-path.ts import the steps.
import { ConditionType } from '../../api/constants.ts';
import { type DefaultedKMSDeploymentSpec, formerDefaultImageHint, type KESKeyRecord, type KESStatus,
  type OperatorDefaults } from '../../api/index.ts';
import type { ObjectReader } from '../../runtime/cache.ts';
import type { EventSink } from '../../runtime/events.ts';
import type { KubeClient } from '../../runtime/kube/client.ts';
import type { KubeObject } from '../../runtime/kube/resources.ts';
import type { CleanupStep, Step, StepContext, StepResult } from '../../runtime/step.ts';
import { type DeploymentRef, deploymentRefOf } from '../../workload/names.ts';
import type { Rollout } from '../../workload/rollout.ts';
import { ConditionReason } from '../../api/reasons.ts';
import type { KMSDeploymentObject } from './status.ts';

/** Values a step computes for later steps of the same reconcile; each field names its writer. */
export interface Handoff {
  /** The AppRole Secret's checksum (vault step); the KES pod template carries it so KES rolls on a new secret-id. */
  appRoleChecksum?: string;
  /** The Vault role KES logs in as (vault step); the KES config names it under Kubernetes auth. */
  vaultRole?: string;
  /** The KES identities of the client certificates issued or found (pki step), for status.kes. */
  kesIdentities?: Pick<KESStatus, 'minioIdentity' | 'operatorIdentity'>;
  /** How KES runs and the identities its config names (kes step), for status.kes. */
  kesWorkload?: Pick<KESStatus, 'endpoint' | 'image' | 'readyReplicas' | 'minioIdentity' | 'operatorIdentity'>;
  /** The master keys recorded after this run (keys step), for status.kes. */
  keyRecords?: KESKeyRecord[];
  /**
   * The certificate Secrets of the user's (spec.*.tls.certificateSecretRef) that the pki step read and
   * validated, by name: they are not the operator's, so neither declared children nor cached.
   */
  userCertificates?: Record<string, KubeObject>;
}

export interface KMSDeploymentStepContext extends StepContext<KMSDeploymentObject, DefaultedKMSDeploymentSpec> {
  /** The values earlier steps of this reconcile hand to later ones. */
  readonly handoff: Handoff;
}

export type KMSDeploymentStep = Step<KMSDeploymentObject, DefaultedKMSDeploymentSpec, KMSDeploymentStepContext>;
/** A stage of the data path: its name (for logs), the one condition it owns, and its run. */
export function dataPathStep(name: string, condition: ConditionType, run: KMSDeploymentStep['run']): KMSDeploymentStep {
  return { name, condition, run };
}

export type KMSDeploymentCleanup = CleanupStep<KMSDeploymentObject, DefaultedKMSDeploymentSpec>;

/** What one reconcile of a KMSDeployment needs from the operator. */
export interface ReconcileEnv {
  kube: KubeClient;
  cache: ObjectReader;
  events: EventSink;
  now: () => Date;
  /** Stages 3-9 of the data path, in order (defaultDataPath() unless a test plugs in others). */
  steps: readonly KMSDeploymentStep[];
  /** The cleanups run before the finalizer is released (the Vault stage plugs in its own). */
  cleanups: readonly KMSDeploymentCleanup[];
  /** The images the operator is configured with (--default-kes-image, --default-minio-image). */
  defaultImages: OperatorDefaults;
}

/** The reference every child of the reconciled KMSDeployment is named after. */
export function deploymentRef(context: Pick<KMSDeploymentStepContext, 'object'>): DeploymentRef {
  return deploymentRefOf(context.object);
}

/** A Secret this reconcile declared, else the cached one (children are applied before the cache sees them). */
export function childSecret(context: Pick<KMSDeploymentStepContext, 'object' | 'children' | 'cache'>, name: string):
  | KubeObject
  | undefined
{
  return context.children.get('Secret', name) ??
    context.cache.get('Secret', context.object.metadata.namespace ?? '', name);
}

/** How often a step looks again for certificate Secrets the PKI step has not written yet. */
const CERTIFICATE_POLL_MS = 10_000;

/** The result of a step that waits for certificate material (`missing` says which): False, WaitingForCertificates, looked at again later. */
export function waitingForCertificates(missing: string, requeueAfterMs = CERTIFICATE_POLL_MS): StepResult {
  return { status: 'False', reason: ConditionReason.WaitingForCertificates, message: missing, requeueAfterMs };
}

/**
 * The condition a workload step (KES, MinIO) reports for its rollout: Available once every replica runs
 * the declared template, ready; else WaitingForPods, with a hint when the image is a former default.
 */
export function availabilityOf(component: 'KES' | 'MinIO', rollout: Rollout,
  imageField: 'spec.kes.image' | 'spec.minio.image', image: string): StepResult
{
  if (rollout.ready) {
    return { status: 'True', reason: ConditionReason.Available, message: `${component}: ${rollout.message}` };
  }
  const message = [`${component}: ${rollout.message}`, formerDefaultImageHint(imageField, image)].filter(Boolean).join(
    '; ',
  );
  // No requeueAfter: every status change of the owned Deployment or StatefulSet enqueues this object (the
  // rollout is read from nothing else), and the resync is the safety net. A poll here made every stack whose
  // pods do not come up (image pulls, quota) cost a reconcile every few seconds, and starved the others.
  return { status: 'False', reason: ConditionReason.WaitingForPods, message };
}

/**
 * status.kes, built here and written nowhere else: what the PKI, KES and keys steps handed over. The
 * KES step's identities win over the PKI step's (the ones the running config names); the recorded keys
 * are the keys step's, carried over from the last written status when a run that reached the KES step
 * stopped before it.
 */
export function kesStatusOf(context: Pick<KMSDeploymentStepContext, 'object' | 'handoff'>): KESStatus | undefined {
  const { kesIdentities, kesWorkload, keyRecords } = context.handoff;
  if (!kesIdentities && !kesWorkload && !keyRecords) return undefined;
  const keys = keyRecords ??
    (kesWorkload ? (context.object.status?.['kes'] as KESStatus | undefined)?.keys : undefined);
  return { ...kesIdentities, ...(keys === undefined ? {} : { keys }), ...kesWorkload };
}

/** The step (by its condition) that writes each fragment of status; status.kes's workload part is the KES step's. */
const FRAGMENT_WRITERS: Readonly<Record<string, ConditionType>> = {
  certificates: ConditionType.CertificatesReady,
  vault: ConditionType.VaultConfigured,
  kes: ConditionType.KESAvailable,
  minio: ConditionType.MinIOAvailable,
  buckets: ConditionType.BucketsReady,
};

/**
 * The status fragments of a run: those the steps wrote (one writer each) and status.kes from their
 * handoff. A fragment whose writer did not run (blocked by an earlier step, e.g. while KES rolls) keeps
 * what it last said, as Kubernetes' own controllers leave what they did not observe: a client reading
 * status.minio.caConfigMap during a KES roll found none and spoke HTTP to an HTTPS MinIO. A writer that
 * ran and wrote nothing removes its fragment.
 */
export function statusFragments(context: Pick<KMSDeploymentStepContext, 'object' | 'handoff' | 'status'>,
  notRun: ReadonlySet<string> = new Set()): Record<string, unknown>
{
  const previous = (context.object.status ?? {}) as Record<string, unknown>;
  const carried = Object.fromEntries(
    Object.entries(FRAGMENT_WRITERS).flatMap((
      [fragment, writer],
    ) => (notRun.has(writer) && previous[fragment] !== undefined ? [[fragment, previous[fragment]]] : [])),
  );
  const kes = kesStatusOf(context);
  const kesCarried = carried['kes'] as KESStatus | undefined;
  return { ...carried, ...context.status, ...(kes || kesCarried ? { kes: { ...kesCarried, ...kes } } : {}) };
}

/** A Secret pods mount a certificate from: a validated one of the user's, else childSecret. */
export function certificateSecret(context: Pick<KMSDeploymentStepContext, 'object' | 'children' | 'cache' | 'handoff'>,
  name: string): KubeObject | undefined
{
  return context.handoff.userCertificates?.[name] ?? childSecret(context, name);
}
