import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../../src/runtime/kube/resources.ts';
import { ReconcileTrigger } from '../../../src/runtime/reconcile-trigger.ts';

const base: KubeObject = {
  apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment',
  metadata: { namespace: 'ns', name: 'a', uid: 'u1', generation: 1, resourceVersion: '1', labels: { l: '1' }, annotations: { a: '1' } },
  status: { observedGeneration: 1 },
};
const edit = (metadata: Partial<KubeObject['metadata']>, rest: Record<string, unknown> = {}): KubeObject =>
  ({ ...base, ...rest, metadata: { ...base.metadata, resourceVersion: String(Math.random()), ...metadata } });

describe('ReconcileTrigger', () => {
  it('reconciles every add and delete', () => {
    const trigger = new ReconcileTrigger();
    assert.equal(trigger.asksForReconcile('add', base), true);
    assert.equal(trigger.asksForReconcile('add', base), true, 'a relist re-adds');
    assert.equal(trigger.asksForReconcile('delete', base), true);
  });

  it('skips an update of the status, resourceVersion or managedFields alone', () => {
    const trigger = new ReconcileTrigger();
    trigger.asksForReconcile('add', base);
    assert.equal(trigger.asksForReconcile('update', edit({}, { status: { observedGeneration: 1, conditions: [] } })), false);
    assert.equal(trigger.asksForReconcile('update', edit({ managedFields: [{ manager: 'x' }] } as never)), false);
  });

  it('reconciles an update of the generation, labels, annotations, finalizers, deletion or uid', () => {
    const changes: Array<[string, Partial<KubeObject['metadata']>]> = [
      ['generation', { generation: 2 }],
      ['labels', { labels: { l: '2' } }],
      ['annotations', { annotations: {} }],
      ['finalizers', { finalizers: ['kmsstack.io/cleanup'] }],
      ['deletion', { deletionTimestamp: '2026-12-01T00:00:00Z' }],
      ['uid', { uid: 'u2' }],
    ];
    for (const [what, metadata] of changes) {
      const trigger = new ReconcileTrigger();
      trigger.asksForReconcile('add', base);
      assert.equal(trigger.asksForReconcile('update', edit(metadata)), true, what);
      assert.equal(trigger.asksForReconcile('update', edit(metadata, { status: {} })), false, `${what}, then status alone`);
    }
  });

  it('reconciles an update of an object it has not seen, and forgets a deleted one', () => {
    const trigger = new ReconcileTrigger();
    assert.equal(trigger.asksForReconcile('update', base), true);
    trigger.asksForReconcile('delete', base);
    assert.equal(trigger.asksForReconcile('update', base), true);
  });
});
