// The reconcile of one KMSDeployment: the data path (data-path.ts) of docs/architecture.md, top to bottom.
// Every stage is a Step that owns one condition; the runtime applies the children the steps declare (only when
// they differ from the cache), prunes unwanted ones after a complete run, and writes status only when
// it changed, so a reconcile where nothing changed sends no write at all.
import { ConditionReason } from '../../api/reasons.ts';
import { ConditionType } from '../../api/constants.ts';
import { applyDefaults, type DefaultedKMSDeploymentSpec, formatFieldErrors, type KMSDeploymentSpec,
  type OperatorDefaults, validateKMSDeployment } from '../../api/index.ts';
import { DesiredChildren, pruneChildren } from '../../runtime/children.ts';
import { type ReconcileRequest, type ReconcileResult, TerminalError } from '../../runtime/controller.ts';
import { type PipelineOutcome, runSteps } from '../../runtime/pipeline.ts';
import type { ConditionReport } from '../../runtime/step.ts';
import { ensureFinalizer, finalize } from './finalizer.ts';
import { type KMSDeploymentStepContext, type ReconcileEnv, statusFragments } from './context.ts';
import { announce, buildStatus, type KMSDeploymentObject, writeStatus } from './status.ts';

export async function reconcile(env: ReconcileEnv, request: ReconcileRequest): Promise<ReconcileResult> {
  const object = env.cache.get('KMSDeployment', request.namespace, request.name) as KMSDeploymentObject | undefined;
  if (!object) return {}; //                                            gone: its children go with it (ownerReferences)
  const checked = checkSpec(object, env.defaultImages); //     2. validate + default ............ SpecValid
  if (object.metadata.deletionTimestamp) return finalize(env, object, checked.spec, request); // 1. deleting: cleanup
  let outcome: PipelineOutcome | undefined;
  const context = checked.spec ? stepContext(env, request, object, checked.spec) : undefined;
  if (context) {
    await ensureFinalizer(env, object); //                              1. before anything outside the cluster exists
    outcome = await runSteps(env.steps, context); //               3.-8. PKI, Vault, KES, keys, MinIO, round trip
    if (outcome.complete) await pruneChildren(object, context.children, context); // children no longer wanted
  }
  const status = buildStatus(object, [checked.condition, ...(outcome?.conditions ?? [])],
    context ? statusFragments(context, notRun(outcome)) : {}, env.now());
  if (await writeStatus(env.kube, object, status)) await announce(env.events, object, status); // 9. status → Ready
  if (!checked.spec) throw new TerminalError(`invalid spec: ${checked.condition.message}`);
  if (outcome?.error !== undefined) throw outcome.error;
  if (outcome?.retry) return { retry: true }; //                      the work queue's rate limiter decides when
  return outcome?.requeueAfterMs ? { requeueAfterMs: outcome.requeueAfterMs } : {};
}

/** The conditions of the steps this run did not reach (blocked by an earlier one). */
function notRun(outcome: PipelineOutcome | undefined): Set<string> {
  return new Set(
    (outcome?.conditions ?? []).filter((c) => c.reason === 'Blocked' || c.reason === 'BlockedByError').map((c) =>
      c.type
    ),
  );
}

/**
 * SpecValid: the same checks as the API server's schema and CEL rules plus the operator's own, and
 * the spec with every default, the images the operator is configured with included. Pure.
 */
export function checkSpec(object: KMSDeploymentObject,
  defaultImages: Partial<OperatorDefaults>): { condition: ConditionReport; spec?: DefaultedKMSDeploymentSpec }
{
  const errors = validateKMSDeployment(object);
  if (errors.length > 0) {
    return {
      condition: { type: ConditionType.SpecValid, status: 'False', reason: ConditionReason.InvalidSpec,
        message: formatFieldErrors(errors).slice(0, 1024) },
    };
  }
  const spec = applyDefaults(object.spec as KMSDeploymentSpec, defaultImages);
  return {
    condition: { type: ConditionType.SpecValid, status: 'True', reason: ConditionReason.Valid,
      message: 'the spec is valid' },
    spec,
  };
}

function stepContext(env: ReconcileEnv, request: ReconcileRequest, object: KMSDeploymentObject,
  spec: DefaultedKMSDeploymentSpec): KMSDeploymentStepContext
{
  return {
    object,
    spec,
    now: env.now(),
    logger: request.logger,
    cache: env.cache,
    kube: env.kube,
    events: env.events,
    children: new DesiredChildren(object),
    status: {},
    handoff: {},
    signal: request.signal,
  };
}
