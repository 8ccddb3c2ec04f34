// Runs the steps of a reconcile in order: each step's result becomes its condition, the children it
// declared are applied right after it (later steps may depend on them), and a step that is not True
// stops the run unless it says `proceed`. A thrown error ends the run and is returned for retry, and so
// does an aborted signal (the reconcile's deadline passed) before a step starts; a step that finished
// still gets its children applied, since they record work already done (e.g. a new secret-id).
import { applyChildren } from './children.ts';
import { redactString } from './logger.ts';
import type { KubeObject } from './kube/resources.ts';
import type { ConditionReport, Step, StepContext, StepResult } from './step.ts';

export const CHILD_CONFLICT = 'ChildConflict';
/** A foreign object's deletion sends no event (it is outside the caches): look again after this long. */
const CHILD_CONFLICT_RECHECK_MS = 60_000;

export interface PipelineOutcome {
  conditions: ConditionReport[];
  /** Every step ran to the end without error or block: only then may unwanted children be pruned. */
  complete: boolean;
  requeueAfterMs: number | undefined;
  /** A step asked for a retry (StepResult.retry): the work queue's rate limiter picks the delay. */
  retry: boolean;
  /** The first error thrown by a step or by applying its children. */
  error: unknown;
  /** The number of write requests sent for children. */
  writes: number;
}

/** Condition messages end up in status and events: bounded, and scrubbed of anything token-like. */
export function safeMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return redactString(text).slice(0, 512);
}

export async function runSteps<TObject extends KubeObject, TSpec, TContext extends StepContext<TObject, TSpec>>(
  steps: readonly Step<TObject, TSpec, TContext>[],
  context: TContext,
): Promise<PipelineOutcome> {
  const outcome: PipelineOutcome = { conditions: [], complete: true, requeueAfterMs: undefined, retry: false,
    error: undefined, writes: 0 };
  let blockedBy: string | undefined;
  for (const step of steps) {
    if (blockedBy !== undefined || outcome.error !== undefined) {
      const reason = outcome.error !== undefined ? 'BlockedByError' : 'Blocked';
      outcome.conditions.push({ type: step.condition, status: 'Unknown', reason, message: `waiting for ${blockedBy}` });
      continue;
    }
    const logger = context.logger.child({ step: step.name });
    try {
      // Past the reconcile's deadline (or at shutdown) no further step starts; the reason says which.
      context.signal.throwIfAborted();
      const stepResult = await step.run({ ...context, logger });
      const applied = await applyChildren(context.object, context.children.takeUnapplied(), { ...context, logger });
      outcome.writes += applied.writes;
      const result = applied.conflicts.length > 0
        ? await childConflict(context, step.name, applied.conflicts)
        : stepResult;
      outcome.conditions.push({ type: step.condition, status: result.status, reason: result.reason,
        message: result.message });
      if (result.retry) outcome.retry = true;
      if (result.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
        outcome.requeueAfterMs = Math.min(outcome.requeueAfterMs ?? Infinity, result.requeueAfterMs);
      }
      if (result.status !== 'True' && !result.proceed) {
        blockedBy = step.condition;
        outcome.complete = false;
      }
    } catch (err) {
      logger.error({ err }, 'step failed');
      outcome.error = err;
      outcome.complete = false;
      blockedBy = step.condition;
      outcome.conditions.push({ type: step.condition, status: 'Unknown', reason: 'Error', message: safeMessage(err) });
      await context.events.emit(context.object, { type: 'Warning', reason: 'ReconcileError', action: step.name,
        note: `${step.condition}: ${safeMessage(err)}` });
    }
  }
  return outcome;
}

/** The condition (and Warning event) of a step whose children's names are taken by objects it does not own. */
async function childConflict<TObject extends KubeObject, TSpec>(context: StepContext<TObject, TSpec>, action: string,
  conflicts: string[]): Promise<StepResult>
{
  const message =
    `objects with the names of this KMSDeployment's children exist and are not owned by it, so the operator leaves them untouched: ${
      conflicts.join(', ')
    } ` +
    '(delete or rename them, or give the KMSDeployment another name)';
  await context.events.emit(context.object, { type: 'Warning', reason: CHILD_CONFLICT, action,
    note: message.slice(0, 1024) });
  return { status: 'False', reason: CHILD_CONFLICT, message: message.slice(0, 1024),
    requeueAfterMs: CHILD_CONFLICT_RECHECK_MS };
}
