// What every step of the KMSDeployment controller works with: the typed step context (with the values
// one step hands to the next), the environment of a reconcile, and the few readers every step uses.
// Steps import this module and nothing of each other; reconcile.ts and data-path.ts import the steps.
import type { DefaultedKMSDeploymentSpec, OperatorDefaults } from '../../api/index.ts';
import type { ObjectReader } from '../../runtime/cache.ts';
import type { EventSink } from '../../runtime/events.ts';
import type { KubeClient } from '../../runtime/kube/client.ts';
import type { KubeObject } from '../../runtime/kube/resources.ts';
import type { CleanupStep, Step, StepContext } from '../../runtime/step.ts';
import { deploymentRefOf, type DeploymentRef } from '../../workload/names.ts';
import type { KMSDeploymentObject } from './status.ts';

/** Values a step computes for later steps of the same reconcile; each field names its writer. */
export interface Handoff {
  /** The AppRole Secret's checksum (vault step); the KES pod template carries it so KES rolls on a new secret-id. */
  appRoleChecksum?: string;
  /**
   * The certificate Secrets of the user's (spec.*.tls.certificateSecretRef) that the pki step read and
   * validated, by name: they are not the operator's, so neither declared children nor cached.
   */
  userCertificates?: Record<string, KubeObject>;
}

export interface KMSDeploymentStepContext extends StepContext<KMSDeploymentObject, DefaultedKMSDeploymentSpec> {
  /** Filled by earlier steps of this reconcile, read by later ones. */
  readonly handoff: Handoff;
}

export type KMSDeploymentStep = Step<KMSDeploymentObject, DefaultedKMSDeploymentSpec, KMSDeploymentStepContext>;
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

/** A Secret pods mount a certificate from: a validated one of the user's, else childSecret. */
export function certificateSecret(context: Pick<KMSDeploymentStepContext, 'object' | 'children' | 'cache' | 'handoff'>, name: string): KubeObject | undefined {
  return context.handoff.userCertificates?.[name] ?? childSecret(context, name);
}
