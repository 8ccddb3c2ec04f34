// The kmsstack.io/cleanup finalizer: added before the reconcile creates anything outside the cluster
// (Vault policy, AppRole, KES keys), removed only after every cleanup step succeeded or was skipped by
// its annotation (kmsstack.io/skip-vault-cleanup: "true" for the Vault one). Both changes are
// server-side applies of our own entry in metadata.finalizers, which is a set: other finalizers stay.
import { EventReason } from '../../api/reasons.ts';
import type { ReconcileRequest, ReconcileResult } from '../../runtime/controller.ts';
import type { CleanupStep } from '../../runtime/step.ts';
import type { KubeObject } from '../../runtime/kube/resources.ts';
import { isConflict, isNotFound } from '../../runtime/kube/client.ts';
import { safeMessage } from '../../runtime/pipeline.ts';
import type { KMSDeploymentObject } from './status.ts';
import type { ReconcileEnv } from './context.ts';
import type { DefaultedKMSDeploymentSpec } from '../../api/index.ts';

export const FINALIZER = 'kmsstack.io/cleanup';

export function hasFinalizer(object: KubeObject): boolean {
  return object.metadata.finalizers?.includes(FINALIZER) ?? false;
}

function finalizerPatch(object: KubeObject, finalizers: string[]): KubeObject {
  // The uid makes the apply fail rather than recreate the object if it was deleted meanwhile.
  return { apiVersion: object.apiVersion, kind: object.kind,
    metadata: { name: object.metadata.name, namespace: object.metadata.namespace, uid: object.metadata.uid,
      finalizers } };
}

/** Adds the finalizer if missing; no request when it is already there. */
export async function ensureFinalizer(env: Pick<ReconcileEnv, 'kube'>, object: KubeObject): Promise<void> {
  if (hasFinalizer(object)) return;
  await env.kube.apply(finalizerPatch(object, [FINALIZER]));
}

export function isSkipped(object: KubeObject, cleanup: Pick<CleanupStep, 'skipAnnotation'>): boolean {
  return cleanup.skipAnnotation !== undefined && object.metadata.annotations?.[cleanup.skipAnnotation] === 'true';
}

/**
 * The deletion branch of the reconcile: run every cleanup step (in order, each either succeeding or
 * skipped by its annotation), then release the object by removing the finalizer. A failing step
 * throws, so the key is retried with backoff and the object stays until cleanup works or is skipped.
 */
export async function finalize(
  env: ReconcileEnv,
  object: KMSDeploymentObject,
  spec: DefaultedKMSDeploymentSpec | undefined,
  request: ReconcileRequest,
): Promise<ReconcileResult> {
  if (!hasFinalizer(object)) return {};
  const logger = request.logger.child({ phase: 'cleanup' });
  for (const cleanup of env.cleanups) {
    if (isSkipped(object, cleanup)) {
      logger.warn({ cleanup: cleanup.name, annotation: cleanup.skipAnnotation }, 'cleanup skipped by annotation');
      await env.events.emit(object, { type: 'Warning', reason: EventReason.CleanupSkipped, action: 'Cleanup',
        note: `${cleanup.name} cleanup skipped: ${cleanup.skipAnnotation} is "true"` });
      continue;
    }
    try {
      await cleanup.run({ object, spec, now: env.now(), logger: logger.child({ cleanup: cleanup.name }),
        cache: env.cache, kube: env.kube, events: env.events, signal: request.signal });
    } catch (err) {
      const hint = cleanup.skipAnnotation ? ` (to delete anyway, annotate with ${cleanup.skipAnnotation}: "true")` : '';
      await env.events.emit(object, { type: 'Warning', reason: EventReason.CleanupFailed, action: 'Cleanup',
        note: `${cleanup.name} cleanup failed: ${safeMessage(err)}${hint}` });
      throw err;
    }
  }
  try {
    await env.kube.apply(finalizerPatch(object, []));
  } catch (err) {
    // The patch carries the uid: 404/409 mean this object is already gone (a restart repeated the
    // removal after the API server had let it go), which is the outcome we wanted.
    if (!isNotFound(err) && !isConflict(err)) throw err;
  }
  logger.info('cleanup done; finalizer removed');
  return {};
}
