// Status conditions of a KMSDeployment (metav1.Condition shape). Pure functions: time comes in as `now`.
import { ConditionReason } from '../../api/reasons.ts';
import { ConditionType, conditionTypes } from '../../api/constants.ts';
import type { Condition as ApiCondition } from '../../api/index.ts';
import type { ConditionReport } from '../../runtime/step.ts';

/** A condition as status holds it: the API's type, with the generation the operator always sets. */
export type Condition = ApiCondition & { observedGeneration: number };

/** A condition as a step reports it; generation and transition time are filled in by setCondition. */
type ConditionUpdate = ConditionReport;

export const READY = ConditionType.Ready;
/** The conditions in data-path order that Ready summarises. */
export const CONDITION_TYPES: readonly string[] = conditionTypes.filter((type) => type !== READY);

/** A condition time: `now` to the second, as metav1.Time serialises it; anything finer would never compare equal after a round trip. */
export function formatTime(now: Date): string {
  return new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * Returns `conditions` with `update` set. lastTransitionTime changes only when the status flips (or the
 * condition is new); reason, message and observedGeneration follow the update. Order is kept, new types append.
 */
export function setCondition(conditions: readonly Condition[], update: ConditionUpdate, generation: number,
  now: Date): Condition[]
{
  const previous = conditions.find((c) => c.type === update.type);
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    message: update.message,
    observedGeneration: generation,
    lastTransitionTime: previous && previous.status === update.status ? previous.lastTransitionTime : formatTime(now),
  };
  if (!previous) return [...conditions, next];
  return conditions.map((c) => (c.type === update.type ? next : c));
}

/** Ready is True only when every condition in `types` is True; otherwise it carries the first one that is not. */
export function readyFrom(conditions: readonly Condition[],
  types: readonly string[] = CONDITION_TYPES): ConditionUpdate
{
  for (const type of types) {
    const condition = conditions.find((c) => c.type === type);
    if (!condition) {
      return { type: READY, status: 'Unknown', reason: ConditionReason.Pending,
        message: `${type} has not been reported yet` };
    }
    if (condition.status !== 'True') {
      return { type: READY, status: 'False', reason: `${type}${condition.status === 'False' ? 'False' : 'Unknown'}`,
        message: `${type}: ${condition.message}` };
    }
  }
  return { type: READY, status: 'True', reason: ConditionReason.AllConditionsTrue,
    message: 'the MinIO, KES and Vault chain is up' };
}

/** Validates condition reasons the way the API server does (metav1.Condition: CamelCase, max 1024). */
export function isValidReason(reason: string): boolean {
  return /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/.test(reason) && reason.length <= 1024;
}
