// The certificate Secrets a KMSDeployment names (spec.minio.tls / spec.kes.tls certificateSecretRef) are
// watched, against a real kube-apiserver: creating or rotating one reconciles the KMSDeployments that name
// it within seconds, while a kubernetes.io/tls Secret no spec names, or a Secret of another type, reconciles
// nothing. The data path is one test step that never asks to be requeued and the resync is 10 minutes, so
// every reconcile counted here was caused by an event.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { deploymentsNamingSecret } from '../../../src/controllers/kmsdeployment/controller.ts';
import { metadataOnly } from '../../../src/runtime/informer.ts';
import { resources, type KubeObject } from '../../../src/runtime/kube/resources.ts';
import { configMapStep, getKMSDeployment, staticDeployment, startOperatorIn, waitFor, type RunningOperator } from './harness.ts';

const NS = 'rt-watch';
const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('certificate Secrets named by a spec are watched (real kube-apiserver)', { timeout: 300_000 }, () => {
  let running: RunningOperator;
  const calls = { count: 0 };

  const secret = (name: string, version: string, type = 'kubernetes.io/tls'): KubeObject => ({
    apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS }, type,
    data: { 'tls.crt': b64(`certificate ${version}`), 'tls.key': b64(`key ${version}`) },
  });
  /** Replaces the Secret's data (a renewal as cert-manager writes it). */
  const rotate = async (name: string, version: string) => {
    const live = await running.kube.get(resources.Secret, NS, name);
    await running.kube.replace({ ...live!, data: secret(name, version)['data'] } as KubeObject);
  };
  /** Waits until no reconcile has run for 2 s; the number of reconciles so far. */
  const settled = async () => {
    let last = -1;
    while (last !== calls.count) {
      last = calls.count;
      await sleep(2000);
    }
    return last;
  };
  /** Runs `action` and waits for a reconcile after it; the milliseconds that took. */
  const reconciledAfter = async (action: () => Promise<unknown>, ms: number, what: string) => {
    const before = calls.count;
    const started = Date.now();
    await action();
    await waitFor(what, async () => (calls.count > before ? true : undefined), ms, 100);
    return Date.now() - started;
  };

  before(async () => {
    running = await startOperatorIn(NS, { steps: [configMapStep(() => ['info'], calls)] });
    await running.kube.create(staticDeployment(NS, 'byo', { minio: { replicas: 1, keyName: 'dev-key', storage: { size: '1Gi' }, tls: { certificateSecretRef: { name: 'byo-cert' } } } }));
    await waitFor('the first reconcile', async () => ((await getKMSDeployment(running.kube, NS, 'byo'))?.status?.observedGeneration === 1 ? true : undefined));
  });
  after(() => running?.stop());

  it('creating the named Secret, then rotating it, reconciles the KMSDeployment within seconds', async () => {
    await settled();
    const created = await reconciledAfter(() => running.kube.create(secret('byo-cert', 'v1')), 5000, 'a reconcile after the Secret was created');
    await settled();
    const rotated = await reconciledAfter(() => rotate('byo-cert', 'v2'), 5000, 'a reconcile after the Secret was rotated');
    assert.ok(created < 5000 && rotated < 5000, `${created} ms, ${rotated} ms`);
  });

  it('a Secret no spec names, or one of another type, reconciles nothing', async () => {
    const before = await settled();
    await running.kube.create(secret('someone-elses-cert', 'v1'));
    await rotate('someone-elses-cert', 'v2');
    await running.kube.create(secret('byo-opaque', 'v1', 'Opaque'));
    await sleep(3000);
    assert.equal(calls.count, before);
  });

  it('maps a Secret to the KMSDeployments of its namespace that name it, for either certificate', () => {
    const deployments: KubeObject[] = [
      { metadata: { name: 'a', namespace: NS }, spec: { minio: { tls: { certificateSecretRef: { name: 'shared' } } } } },
      { metadata: { name: 'b', namespace: NS }, spec: { kes: { tls: { certificateSecretRef: { name: 'shared' } } }, minio: {} } },
      { metadata: { name: 'c', namespace: NS }, spec: { minio: {} } },
    ];
    const cache = { list: (_kind: string, namespace: string) => deployments.filter((d) => d.metadata.namespace === namespace), get: () => undefined, listAll: () => deployments };
    assert.deepEqual(deploymentsNamingSecret({ metadata: { name: 'shared', namespace: NS } }, cache), [`${NS}/a`, `${NS}/b`]);
    assert.deepEqual(deploymentsNamingSecret({ metadata: { name: 'shared', namespace: 'elsewhere' } }, cache), []);
  });

  it('keeps only the metadata of the watched Secrets (no key material in the cache)', () => {
    const kept = metadataOnly({ ...secret('byo-cert', 'v3'), metadata: { name: 'byo-cert', namespace: NS, resourceVersion: '7', managedFields: [{}], annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{}}', note: 'x' } } });
    assert.deepEqual(kept, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'byo-cert', namespace: NS, resourceVersion: '7', annotations: { note: 'x' } } });
  });
});
