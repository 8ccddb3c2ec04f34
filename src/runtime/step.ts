// The plug-in point of the reconcile: a Step does one stage of the data path, owns one status
// condition, declares the children it wants, and reports how its condition stands.
import type { ObjectReader } from './cache.ts';
import type { DesiredChildren } from './children.ts';
import type { EventSink } from './events.ts';
import type { KubeClient } from './kube/client.ts';
import type { KubeObject } from './kube/resources.ts';
import type { Logger } from './logger.ts';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** A condition as the run reports it (the controller adds generation and transition time). */
export interface ConditionReport {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

export interface StepResult {
  status: ConditionStatus;
  /** CamelCase reason, e.g. Issued, WaitingForPods, NotImplemented. */
  reason: string;
  /** The message for the user; never a secret. */
  message: string;
  /** Reconcile again after this many ms (e.g. pods not ready yet, certificate renewal due). */
  requeueAfterMs?: number;
  /**
   * Try again: a later attempt may succeed (a server is down, a call failed). The work queue's rate
   * limiter decides when, after the status is written, and forgets the key's failures on the first
   * reconcile that needs no retry; steps keep no retry delays of their own.
   */
  retry?: boolean;
  /**
   * Run the next steps even though this condition is not True. By default a step that is not True
   * stops the pipeline and later conditions are reported Unknown (blocked).
   */
  proceed?: boolean;
}

/** What both a step and a cleanup get: the object, the time, the logger, the clients, the deadline. */
interface ReconcileContext<TObject extends KubeObject> {
  /** The object being reconciled, as cached; treat as read-only. */
  readonly object: TObject;
  /** The time of this reconcile; steps use it instead of reading the clock. */
  readonly now: Date;
  readonly logger: Logger;
  /** Reads from the informer caches (the operator's children and the primary objects). */
  readonly cache: ObjectReader;
  /** Direct API access, for reads outside the caches (e.g. a user's Secret) and non-child writes. */
  readonly kube: KubeClient;
  readonly events: EventSink;
  /** Aborted when the operator shuts down and the shutdown timeout has passed. */
  readonly signal: AbortSignal;
}

export interface StepContext<TObject extends KubeObject = KubeObject, TSpec = unknown>
  extends ReconcileContext<TObject>
{
  /** Its validated spec with defaults applied. */
  readonly spec: TSpec;
  /** Children this reconcile wants; they are applied after the step returns (only if changed). */
  readonly children: DesiredChildren;
  /** The fragments of .status a step writes besides conditions (e.g. status.minio = {...}), one writer each. */
  readonly status: Record<string, unknown>;
}

/**
 * One stage of a reconcile. A controller that hands values from step to step extends StepContext with
 * typed fields of its own (TContext) instead of passing untyped maps.
 */
export interface Step<TObject extends KubeObject = KubeObject, TSpec = unknown,
  TContext extends StepContext<TObject, TSpec> = StepContext<TObject, TSpec>>
{
  /** The step's name in logs, e.g. "pki". */
  name: string;
  /** The condition type this step owns. */
  condition: string;
  run(context: TContext): Promise<StepResult>;
}

export const NOT_IMPLEMENTED = 'NotImplemented';

/** A placeholder for a stage that is not built yet: its condition says so and Ready stays False. */
export function notImplemented(condition: string, what: string): Step<KubeObject, unknown> {
  return {
    name: `${condition} (not implemented)`,
    condition,
    run: async () => ({ status: 'False', reason: NOT_IMPLEMENTED,
      message: `${what} is not implemented in this version of the operator`, proceed: true }),
  };
}

/** Cleanup that must succeed before the finalizer is removed (e.g. revoking Vault credentials). */
export interface CleanupStep<TObject extends KubeObject = KubeObject, TSpec = unknown> {
  name: string;
  /** An annotation that, set to "true" on the object, skips this cleanup (e.g. kmsstack.io/skip-vault-cleanup). */
  skipAnnotation?: string;
  run(context: CleanupContext<TObject, TSpec>): Promise<void>;
}

export interface CleanupContext<TObject extends KubeObject = KubeObject, TSpec = unknown>
  extends ReconcileContext<TObject>
{
  /** The defaulted spec, or undefined if the spec is not valid (cleanup then has to cope or fail). */
  readonly spec: TSpec | undefined;
}
