// Pure parts of the reconcile: child stamping, the step pipeline's rules, status building and
// comparison, event de-duplication.
import { testLogger } from '../../../support/logger.ts';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DesiredChildren, childLabels } from '../../../../src/runtime/children.ts';
import { EventRecorder, listNote, type EventInput, type EventSink } from '../../../../src/runtime/events.ts';
import { runSteps } from '../../../../src/runtime/pipeline.ts';
import { notImplemented, type Step, type StepContext } from '../../../../src/runtime/step.ts';
import { microTime } from '../../../../src/runtime/leader.ts';
import type { KubeObject } from '../../../../src/runtime/kube/resources.ts';
import type { ObjectReader } from '../../../../src/runtime/cache.ts';
import type { KubeClient } from '../../../../src/runtime/kube/client.ts';
import { buildStatus, statusChanged, type KMSDeploymentObject } from '../../../../src/controllers/kmsdeployment/status.ts';
import { isSkipped } from '../../../../src/controllers/kmsdeployment/finalizer.ts';

const silent = testLogger();
const owner: KMSDeploymentObject = {
  apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment',
  metadata: { name: 'tenant-a', namespace: 'storage', uid: 'uid-1', generation: 3 },
};

class RecordingSink implements EventSink {
  readonly emitted: EventInput[] = [];
  async emit(_regarding: KubeObject, event: EventInput): Promise<void> {
    this.emitted.push(event);
  }
}

describe('DesiredChildren', () => {
  it('stamps namespace, labels and a controller ownerReference, keeping the builder\'s labels', () => {
    const children = new DesiredChildren(owner);
    const stamped = children.add({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'tenant-a-kes', labels: { 'app.kubernetes.io/name': 'kes' } }, spec: {} });
    assert.equal(stamped.metadata.namespace, 'storage');
    assert.deepEqual(stamped.metadata.labels, { 'app.kubernetes.io/name': 'kes', ...childLabels(owner) });
    assert.deepEqual(stamped.metadata.ownerReferences, [{ apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment', name: 'tenant-a', uid: 'uid-1', controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(children.takeUnapplied(), [stamped]);
    assert.deepEqual(children.takeUnapplied(), []);
    assert.ok(children.has('Service', 'tenant-a-kes'));
  });

  it('refuses kinds the operator does not own and other namespaces', () => {
    const children = new DesiredChildren(owner);
    assert.throws(() => children.add({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }), /cannot be a child/);
    assert.throws(() => children.add({ apiVersion: 'apps/v1beta1', kind: 'Deployment', metadata: { name: 'd' } }), /cannot be a child/);
    assert.throws(() => children.add({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'other' } }), /owner's namespace/);
    assert.throws(() => children.add({ apiVersion: 'v1', kind: 'Secret', metadata: {} }), /metadata.name/);
  });
});

function context(events: EventSink = new RecordingSink()): StepContext<KMSDeploymentObject, unknown> {
  return {
    object: owner, spec: {}, now: new Date(0), logger: silent, cache: {} as ObjectReader, kube: {} as KubeClient, events,
    children: new DesiredChildren(owner), status: {}, signal: new AbortController().signal,
  };
}

const step = (condition: string, result: Awaited<ReturnType<Step['run']>> | Error): Step<KMSDeploymentObject, unknown> => ({
  name: condition, condition,
  run: async () => {
    if (result instanceof Error) throw result;
    return result;
  },
});

describe('runSteps', () => {
  it('runs all steps in order and is complete when every condition is True', async () => {
    const outcome = await runSteps([
      step('A', { status: 'True', reason: 'Ok', message: '' }),
      step('B', { status: 'True', reason: 'Ok', message: '', requeueAfterMs: 9000 }),
      step('C', { status: 'True', reason: 'Ok', message: '', requeueAfterMs: 4000 }),
    ], context());
    assert.deepEqual(outcome.conditions.map((c) => c.type), ['A', 'B', 'C']);
    assert.equal(outcome.complete, true);
    assert.equal(outcome.requeueAfterMs, 4000, 'the earliest requeue wins');
  });

  it('stops at a condition that is not True; later conditions are Unknown/Blocked and nothing may be pruned', async () => {
    const outcome = await runSteps([
      step('A', { status: 'False', reason: 'WaitingForPods', message: '0/2 ready' }),
      step('B', { status: 'True', reason: 'Ok', message: '' }),
    ], context());
    assert.deepEqual(outcome.conditions[1], { type: 'B', status: 'Unknown', reason: 'Blocked', message: 'waiting for A' });
    assert.equal(outcome.complete, false);
  });

  it('goes on after a step that says proceed (NotImplemented placeholders do)', async () => {
    const outcome = await runSteps([notImplemented('A', 'Stage A'), step('B', { status: 'True', reason: 'Ok', message: '' })], context());
    assert.equal(outcome.conditions[0]?.reason, 'NotImplemented');
    assert.match(outcome.conditions[0]?.message ?? '', /Stage A is not implemented/);
    assert.equal(outcome.conditions[1]?.status, 'True');
    assert.equal(outcome.complete, true);
  });

  it('turns a thrown error into an Unknown condition with a scrubbed message, a Warning event, and returns the error', async () => {
    const events = new RecordingSink();
    const error = new Error('login failed with token hvs.CAESIJ3x0Y1zZ9aQ7abcdefghijkl');
    const outcome = await runSteps([step('A', error), step('B', { status: 'True', reason: 'Ok', message: '' })], context(events));
    assert.equal(outcome.error, error);
    assert.equal(outcome.complete, false);
    assert.deepEqual(outcome.conditions[0], { type: 'A', status: 'Unknown', reason: 'Error', message: 'login failed with token [REDACTED]' });
    assert.equal(outcome.conditions[1]?.reason, 'BlockedByError');
    assert.equal(events.emitted[0]?.type, 'Warning');
    assert.ok(!events.emitted[0]?.note.includes('hvs.'));
  });
});

describe('status', () => {
  const now = new Date('2025-05-01T12:00:00Z');
  const later = new Date('2025-05-01T13:00:00Z');

  it('builds conditions in report order with observedGeneration, then Ready', () => {
    const status = buildStatus(owner, [
      { type: 'SpecValid', status: 'True', reason: 'Valid', message: '' },
      { type: 'CertificatesReady', status: 'False', reason: 'NotImplemented', message: 'PKI is not implemented' },
    ], { certificates: { notAfter: 'x' } }, now);
    assert.equal(status.observedGeneration, 3);
    assert.deepEqual(status.conditions?.map((c) => [c.type, c.status, c.observedGeneration]), [['SpecValid', 'True', 3], ['CertificatesReady', 'False', 3], ['Ready', 'False', 3]]);
    assert.equal(status.conditions?.[2]?.reason, 'CertificatesReadyFalse');
    assert.deepEqual(status.certificates, { notAfter: 'x' });
  });

  it('is unchanged when rebuilt later from the same reports (no write), and changed when a condition flips', () => {
    const reports = [{ type: 'SpecValid', status: 'True' as const, reason: 'Valid', message: '' }];
    const first = buildStatus(owner, reports, {}, now);
    const live = { ...owner, status: first };
    const second = buildStatus(live, reports, {}, later);
    assert.equal(statusChanged(second, first), false);
    const flipped = buildStatus(live, [{ type: 'SpecValid', status: 'False', reason: 'InvalidSpec', message: 'x' }], {}, later);
    assert.equal(statusChanged(flipped, first), true);
    assert.equal(flipped.conditions?.[0]?.lastTransitionTime, '2025-05-01T13:00:00Z');
  });

  it('drops conditions and fragments no longer reported, and sees that as a change', () => {
    const full = buildStatus(owner, [
      { type: 'SpecValid', status: 'True', reason: 'Valid', message: '' },
      { type: 'KESAvailable', status: 'True', reason: 'Available', message: '' },
    ], { kes: { readyReplicas: 2 } }, now);
    const reduced = buildStatus({ ...owner, status: full }, [{ type: 'SpecValid', status: 'False', reason: 'InvalidSpec', message: '' }], {}, later);
    assert.deepEqual(reduced.conditions?.map((c) => c.type), ['SpecValid', 'Ready']);
    assert.equal(statusChanged(reduced, full), true);
    assert.equal(statusChanged(full, undefined), true);
  });
});

describe('EventRecorder', () => {
  it('emits an event once per de-duplication window and again after it', async () => {
    const created: KubeObject[] = [];
    let clock = 1_000_000;
    const recorder = new EventRecorder({ create: async (obj) => created.push(obj) }, 'op-1', silent, 60_000, () => clock);
    const event = { type: 'Warning' as const, reason: 'ReconcileError', action: 'vault', note: 'VaultConfigured: connection refused' };
    await recorder.emit(owner, event);
    await recorder.emit(owner, event);
    assert.equal(created.length, 1);
    await recorder.emit(owner, { ...event, note: 'VaultConfigured: permission denied' });
    assert.equal(created.length, 2, 'a different message is a different event');
    clock += 60_000;
    await recorder.emit(owner, event);
    assert.equal(created.length, 3);
    const first = created[0] as KubeObject & Record<string, unknown>;
    assert.equal(first.apiVersion, 'events.k8s.io/v1');
    assert.equal(first.reportingController, 'kmsstack.io/kmsstack-operator');
    assert.equal(first.reportingInstance, 'op-1');
    assert.deepEqual(first.regarding, { apiVersion: owner.apiVersion, kind: 'KMSDeployment', name: 'tenant-a', namespace: 'storage', uid: 'uid-1', resourceVersion: undefined });
    assert.match(String(first.eventTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it('forgets a failed emission so it is tried again', async () => {
    let fail = true;
    const created: KubeObject[] = [];
    const recorder = new EventRecorder({ create: async (obj) => {
      if (fail) throw new Error('forbidden');
      created.push(obj);
    } }, 'op-1', silent);
    const event = { type: 'Normal' as const, reason: 'Created', action: 'Apply', note: 'created Secret a' };
    await recorder.emit(owner, event);
    fail = false;
    await recorder.emit(owner, event);
    assert.equal(created.length, 1);
  });

  it('lists what one pass did in one note that fits an Event, cut at whole items with how many were left out', () => {
    assert.equal(listNote(['Secret a', 'Deployment b']), 'Secret a; Deployment b');
    const items = Array.from({ length: 40 }, (_, i) => `Secret tenant-a-${'x'.repeat(20)}-${i}`);
    const note = listNote(items);
    assert.ok(Buffer.byteLength(note) <= 1024, `${Buffer.byteLength(note)} bytes`);
    const listed = note.split('; ').filter((part) => part.startsWith('Secret'));
    assert.deepEqual(listed, items.slice(0, listed.length), 'whole items, in order');
    assert.match(note, new RegExp(`; and ${items.length - listed.length} more$`));
    assert.equal(listNote(['y'.repeat(2000)]).length, 2000, 'one long item is left for emit() to cut');
    const exactlyFull = ['a'.repeat(511), 'b'.repeat(511)];
    assert.equal(listNote(exactlyFull), exactlyFull.join('; '), '1,024 bytes fit');
    assert.equal(listNote(exactlyFull, 'created '), `created ${'a'.repeat(511)}; and 1 more`, 'the prefix counts against the 1,024 bytes');
  });
});

describe('small helpers', () => {
  it('formats MicroTime with six fractional digits', () => {
    assert.equal(microTime(Date.parse('2025-01-02T03:04:05.678Z')), '2025-01-02T03:04:05.678000Z');
  });

  it('skips a cleanup only when its annotation is exactly "true"', () => {
    const cleanup = { skipAnnotation: 'kmsstack.io/skip-vault-cleanup' };
    const annotated = (value: string): KubeObject => ({ metadata: { annotations: { 'kmsstack.io/skip-vault-cleanup': value } } });
    assert.equal(isSkipped(annotated('true'), cleanup), true);
    assert.equal(isSkipped(annotated('yes'), cleanup), false);
    assert.equal(isSkipped({ metadata: {} }, cleanup), false);
    assert.equal(isSkipped(annotated('true'), {}), false);
  });
});

describe('announce', () => {
  const condition = (type: string, status: 'True' | 'False', reason = 'R', message = 'm') => ({ type, status, reason, message, observedGeneration: 1, lastTransitionTime: 't' });
  const withStatus = (...conditions: ReturnType<typeof condition>[]) => ({ ...owner, status: { conditions } });

  it('tells when Ready became True, when it stopped being True, and when the spec became invalid', async () => {
    const { announce } = await import('../../../../src/controllers/kmsdeployment/status.ts');
    const sink = new RecordingSink();
    await announce(sink, withStatus(), { conditions: [condition('SpecValid', 'True'), condition('Ready', 'False', 'KESAvailableFalse')] });
    assert.equal(sink.emitted.length, 0, 'a new object that is not ready yet is no news');
    await announce(sink, withStatus(condition('Ready', 'False')), { conditions: [condition('Ready', 'True', 'AllConditionsTrue', 'up')] });
    await announce(sink, withStatus(condition('Ready', 'True')), { conditions: [condition('Ready', 'False', 'KESAvailableFalse', 'KES: 0/2 ready')] });
    await announce(sink, withStatus(condition('SpecValid', 'True')), { conditions: [condition('SpecValid', 'False', 'InvalidSpec', 'spec.minio.replicas: ...'), condition('Ready', 'False')] });
    assert.deepEqual(sink.emitted.map((e) => [e.type, e.reason]), [['Normal', 'Ready'], ['Warning', 'KESAvailableFalse'], ['Warning', 'InvalidSpec']]);
  });
});
