// What every step of the KMSDeployment controller works with: the typed step context (with the values
// one step hands to the next), the environment of a reconcile, and the few readers every step uses.
// Steps import this module and nothing of each other; reconcile.ts and data-path.ts import the steps.
import type { ConditionType } from '../../api/constants.ts';
import { formerDefaultImageHint, type DefaultedKMSDeploymentSpec, type OperatorDefaults } from '../../api/index.ts';
import type { ObjectReader } from '../../runtime/cache.ts';
import type { EventSink } from '../../runtime/events.ts';
import type { KubeClient } from '../../runtime/kube/client.ts';
import type { KubeObject } from '../../runtime/kube/resources.ts';
import type { CleanupStep, Step, StepContext, StepResult } from '../../runtime/step.ts';
import { deploymentRefOf, type DeploymentRef } from '../../workload/names.ts';
import type { Rollout } from '../../workload/rollout.ts';
import { ConditionReason } from './reasons.ts';
import type { KMSDeploymentObject } from './status.ts';

/** Values a step computes for later steps of the same reconcile; each field names its writer. */
export interface Handoff {
  /** The AppRole Secret's checksum (vault step); the KES pod template carries it so KES rolls on a new secret-id. */
  appRoleChecksum?: string;
}

export interface KMSDeploymentStepContext extends StepContext<KMSDeploymentObject, DefaultedKMSDeploymentSpec> {
  /** Filled by earlier steps of this reconcile, read by later ones. */
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
  /** Stages 3-8 of the data path, in order (defaultDataPath() unless a test plugs in others). */
  steps: readonly KMSDeploymentStep[];
  /** Run before the finalizer is released (the Vault helper plugs in Vault cleanup). */
  cleanups: readonly KMSDeploymentCleanup[];
  /** The images the operator is configured with (--default-kes-image, --default-minio-image). */
  defaultImages: OperatorDefaults;
}

/** The reference every child of the reconciled KMSDeployment is named after. */
export function deploymentRef(context: Pick<KMSDeploymentStepContext, 'object'>): DeploymentRef {
  return deploymentRefOf(context.object);
}

/** A Secret this reconcile declared, else the cached one (children are applied before the cache sees them). */
export function childSecret(context: Pick<KMSDeploymentStepContext, 'object' | 'children' | 'cache'>, name: string): KubeObject | undefined {
  return context.children.get('Secret', name) ?? context.cache.get('Secret', context.object.metadata.namespace ?? '', name);
}

/** How often a step whose workload is rolling out looks again. */
export const ROLLOUT_POLL_MS = 10_000;

/**
 * The condition a workload step (KES, MinIO) reports for its rollout: Available once every replica runs
 * the declared template, ready; else WaitingForPods, with a hint when the image is a former default.
 */
export function availabilityOf(component: 'KES' | 'MinIO', rollout: Rollout, imageField: 'spec.kes.image' | 'spec.minio.image', image: string): StepResult {
  if (rollout.ready) return { status: 'True', reason: ConditionReason.Available, message: `${component}: ${rollout.message}` };
  const message = [`${component}: ${rollout.message}`, formerDefaultImageHint(imageField, image)].filter(Boolean).join('; ');
  return { status: 'False', reason: ConditionReason.WaitingForPods, message, requeueAfterMs: ROLLOUT_POLL_MS };
}
