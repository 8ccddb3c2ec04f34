import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rolloutOf } from '../../../src/workload/rollout.ts';

const template = (checksum: string) => ({ template: { metadata: { annotations: { 'kmsstack.io/config-checksum': checksum } } } });

describe('rolloutOf', () => {
  it('is not ready before the workload exists or while the cache shows another configuration', () => {
    assert.deepEqual(rolloutOf('Deployment', undefined, 2, 'new'), { ready: false, readyReplicas: 0, message: 'the Deployment is being created' });
    const old = { spec: template('old'), status: { readyReplicas: 2 } };
    assert.equal(rolloutOf('Deployment', old, 2, 'new').message, 'the Deployment is being updated to the new configuration');
    assert.equal(rolloutOf('Deployment', old, 2, 'new').readyReplicas, 2);
  });

  it('waits for the controller to observe the latest generation', () => {
    const live = { metadata: { generation: 3 }, spec: template('c'), status: { observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 2, readyReplicas: 2 } };
    assert.match(rolloutOf('Deployment', live, 2, 'c').message, /not observed/);
  });

  it('waits for surge pods of a Deployment to go and for all to be available', () => {
    const surge = { spec: template('c'), status: { updatedReplicas: 2, replicas: 3, availableReplicas: 2, readyReplicas: 3 } };
    assert.equal(rolloutOf('Deployment', surge, 2, 'c').message, '1 old pod(s) still terminating');
    const unavailable = { spec: template('c'), status: { updatedReplicas: 2, replicas: 2, availableReplicas: 1, readyReplicas: 1 } };
    assert.equal(rolloutOf('Deployment', unavailable, 2, 'c').message, '1/2 pods available');
    const done = { spec: template('c'), status: { updatedReplicas: 2, replicas: 2, availableReplicas: 2, readyReplicas: 2 } };
    assert.deepEqual(rolloutOf('Deployment', done, 2, 'c'), { ready: true, readyReplicas: 2, message: '2/2 pods ready' });
  });

  it('waits for a StatefulSet to finish replacing pods', () => {
    const rolling = { spec: template('c'), status: { updatedReplicas: 4, readyReplicas: 4, currentRevision: 'a', updateRevision: 'b' } };
    assert.equal(rolloutOf('StatefulSet', rolling, 4, 'c').message, 'pods are being replaced (revision b)');
    const partial = { spec: template('c'), status: { updatedReplicas: 2, readyReplicas: 4 } };
    assert.equal(rolloutOf('StatefulSet', partial, 4, 'c').message, '2/4 pods run the current configuration');
    // minReadySeconds: the last pod is ready but not yet available (MinIO's peers may not have found it).
    const justReady = { spec: template('c'), status: { updatedReplicas: 4, readyReplicas: 4, availableReplicas: 3, currentRevision: 'b', updateRevision: 'b' } };
    assert.equal(rolloutOf('StatefulSet', justReady, 4, 'c').message, '3/4 pods available');
    assert.equal(rolloutOf('StatefulSet', { ...justReady, status: { ...justReady.status, availableReplicas: 4 } }, 4, 'c').ready, true);
  });
});
