import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { findDifference, isSemanticSubset, normalizeDesired } from '../../../src/runtime/subset.ts';
import { parseQuantity, quantitiesEqual } from '../../../src/runtime/quantity.ts';
import type { KubeObject } from '../../../src/runtime/kube/resources.ts';

const owner = { apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment', name: 'a', uid: 'u-1', controller: true, blockOwnerDeletion: true };

function desiredStatefulSet(): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet',
    metadata: { name: 'a-minio', namespace: 'ns', labels: { 'app.kubernetes.io/managed-by': 'kmsstack-operator' }, ownerReferences: [owner] },
    spec: {
      replicas: 4,
      serviceName: 'a-minio-hl',
      template: {
        metadata: { labels: { app: 'minio' }, annotations: {} },
        spec: { containers: [{ name: 'minio', image: 'minio:1', resources: { requests: { memory: '1024Mi', cpu: '0.5' } }, env: [] }] },
      },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { resources: { requests: { storage: '10240Mi' } } } }],
    },
  };
}

/** What kube-apiserver returns for it: defaults added, quantities canonicalised, empty maps dropped. */
function liveStatefulSet(): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet',
    metadata: {
      name: 'a-minio', namespace: 'ns', uid: 'x', resourceVersion: '42', generation: 1, creationTimestamp: '2025-01-01T00:00:00Z',
      labels: { 'app.kubernetes.io/managed-by': 'kmsstack-operator' }, ownerReferences: [owner],
      managedFields: [{ manager: 'kmsstack-operator', operation: 'Apply' }],
    },
    spec: {
      replicas: 4, serviceName: 'a-minio-hl', podManagementPolicy: 'OrderedReady', revisionHistoryLimit: 10,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      template: {
        metadata: { labels: { app: 'minio' } },
        spec: {
          containers: [{
            name: 'minio', image: 'minio:1', imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log',
            resources: { requests: { memory: '1Gi', cpu: '500m' } },
          }],
          restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', securityContext: {},
        },
      },
      volumeClaimTemplates: [{
        apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } }, volumeMode: 'Filesystem' }, status: { phase: 'Pending' },
      }],
    },
    status: { replicas: 0, availableReplicas: 0 },
  };
}

describe('isSemanticSubset', () => {
  it('treats a live object with server defaults and canonical quantities as unchanged', () => {
    assert.equal(findDifference(desiredStatefulSet(), liveStatefulSet()), undefined);
  });

  it('reports the path of a changed field', () => {
    const live = liveStatefulSet();
    (live.spec as { replicas: number }).replicas = 3;
    assert.equal(findDifference(desiredStatefulSet(), live), '.spec.replicas');
  });

  it('sees a quantity that changed value', () => {
    const live = liveStatefulSet();
    const claim = (live.spec as { volumeClaimTemplates: Array<{ spec: { resources: { requests: Record<string, string> } } }> }).volumeClaimTemplates[0]!;
    claim.spec.resources.requests.storage = '20Gi';
    assert.equal(findDifference(desiredStatefulSet(), live), '.spec.volumeClaimTemplates.[0].spec.resources.requests.storage');
  });

  it('does not compare opaque data values as quantities', () => {
    const desired: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { limits: '1k' } };
    const live: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { limits: '1000' } };
    assert.equal(isSemanticSubset(desired, live), false);
  });

  it('sees a label, annotation or ownerReference removed by hand', () => {
    const live = liveStatefulSet();
    live.metadata.labels = {};
    assert.equal(findDifference(desiredStatefulSet(), live), '.metadata.labels.app.kubernetes.io/managed-by');
    const noOwner = liveStatefulSet();
    noOwner.metadata.ownerReferences = [];
    assert.equal(findDifference(desiredStatefulSet(), noOwner), '.metadata.ownerReferences');
  });

  it('applies when a list differs in length (an element we stopped wanting must be removed)', () => {
    const live = liveStatefulSet();
    const containers = (live.spec as { template: { spec: { containers: unknown[] } } }).template.spec.containers;
    containers.push({ name: 'sidecar', image: 'x' });
    assert.equal(findDifference(desiredStatefulSet(), live), '.spec.template.spec.containers');
  });

  it('reports a missing object as a difference', () => {
    assert.equal(isSemanticSubset(desiredStatefulSet(), undefined), false);
  });

  it('compares Secret stringData with the base64 data the server stores', () => {
    const desired: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { 'config.yaml': 'a: 1\n' }, data: { other: 'eA==' } };
    const live: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, type: 'Opaque', data: { 'config.yaml': Buffer.from('a: 1\n').toString('base64'), other: 'eA==' } };
    assert.equal(isSemanticSubset(desired, live), true);
    assert.equal(normalizeDesired(desired).stringData, undefined);
    const changed = { ...live, data: { 'config.yaml': Buffer.from('a: 2\n').toString('base64'), other: 'eA==' } };
    assert.equal(findDifference(desired, changed), '.data.config.yaml');
  });

  it('property: any object is a subset of itself with extra fields, and changing a leaf breaks it', () => {
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.string(), fc.integer(), fc.boolean(), tie('object'), fc.array(tie('value'), { minLength: 1, maxLength: 3 })),
      object: fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }).filter((k) => k !== '__proto__'), tie('value'), { minKeys: 1, maxKeys: 4 }),
    }));
    fc.assert(
      fc.property(json.object as fc.Arbitrary<Record<string, unknown>>, fc.string({ minLength: 1 }), (spec, extra) => {
        const desired: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'n' }, spec };
        const live: KubeObject = structuredClone({ ...desired, extraField: extra, metadata: { name: 'n', uid: 'u' } });
        assert.equal(findDifference(desired, live), undefined);
        const mutated = structuredClone(live);
        mutateFirstLeaf(mutated.spec);
        assert.notEqual(findDifference(desired, mutated), undefined);
      }),
      { numRuns: 300 },
    );
  });
});

/** Changes the first string/number/boolean leaf found (depth first) into a different value. */
function mutateFirstLeaf(value: unknown): boolean {
  const container = value as Record<string, unknown>;
  for (const key of Object.keys(container)) {
    const leaf = container[key];
    if (typeof leaf === 'string') container[key] = `${leaf}x`;
    else if (typeof leaf === 'number') container[key] = leaf + 1;
    else if (typeof leaf === 'boolean') container[key] = !leaf;
    else if (typeof leaf === 'object' && leaf !== null) {
      if (mutateFirstLeaf(leaf)) return true;
      continue;
    } else continue;
    return true;
  }
  return false;
}

describe('quantities', () => {
  it('parses the suffixes the API server uses', () => {
    const equal = [['1Gi', '1024Mi'], ['500m', '0.5'], ['1k', '1000'], ['1e3', '1k'], ['10G', '10000M'], ['.5', '500m']];
    for (const [a, b] of equal) assert.equal(quantitiesEqual(a!, b!), true, `${a} = ${b}`);
    for (const [a, b] of [['1Gi', '1G'], ['1Gi', 'abc']]) assert.equal(quantitiesEqual(a!, b!), false, `${a} != ${b}`);
    assert.equal(parseQuantity('1.5Mi')?.numerator, 15n * 2n ** 20n);
    assert.equal(parseQuantity('nonsense'), undefined);
  });
});
