// The reconcile runtime against a real kube-apiserver: status and observedGeneration, children applied
// with SSA and ownerReferences, repair of hand edits and deletions, pruning, zero writes when nothing
// changed, terminal errors for invalid specs, finalizer and cleanup, and recovery after an API server restart.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { resources, type KubeObject } from '../../../src/runtime/kube/resources.ts';
import { ensureFinalizer, FINALIZER } from '../../../src/controllers/kmsdeployment/finalizer.ts';
import type { KMSDeploymentCleanup } from '../../../src/controllers/kmsdeployment/context.ts';
import type { Manager } from '../../../src/runtime/manager.ts';
import { KubeClient } from '../../../src/runtime/kube/client.ts';
import { autoEncrypting, configMapStep, type ControlPlane, getKMSDeployment, startOperatorIn, waitFor, writeCount } from './harness.ts';
import { ensureNamespace } from '../../support/kube.ts';
import { inNamespace, kmsDeployment, withSpec } from '../../support/kmsdeployment.ts';
import { newManager, testConfig } from '../../support/operator.ts';

const NS = 'rt';

describe('reconcile runtime (real kube-apiserver)', { timeout: 300_000 }, () => {
  let plane: ControlPlane;
  let admin: KubeClient;
  let manager: Manager;
  let wanted = ['info'];
  const stepCalls = { count: 0 };
  const cleanupCalls: string[] = [];
  let cleanupFails = false;

  const cleanup: KMSDeploymentCleanup = {
    name: 'test-vault',
    skipAnnotation: 'kmsstack.io/skip-vault-cleanup',
    run: async (ctx) => {
      cleanupCalls.push(ctx.object.metadata.name as string);
      if (cleanupFails) throw new Error('vault is unreachable');
    },
  };

  before(async () => {
    const running = await startOperatorIn(NS, { steps: [configMapStep(() => wanted, stepCalls)], cleanups: [cleanup], config: testConfig({ resyncPeriodMs: 15_000 }) });
    ({ plane, kube: admin, manager } = running);
  });

  // A test below replaces the manager: stop the one running now, not the one started first.
  after(async () => {
    await manager?.stop();
    await plane?.stop();
  });

  const configMap = (name: string) => admin.get(resources.ConfigMap, NS, name);
  const readyCondition = async (name: string) => (await getKMSDeployment(admin, NS, name))?.status?.conditions?.find((c) => c.type === 'Ready');

  it('reconciles a new KMSDeployment: finalizer, children with ownerReferences, status with conditions and observedGeneration', async () => {
    const created = await admin.create(kmsDeployment('alpha', inNamespace(NS), autoEncrypting));
    const reconciled = await waitFor('status of alpha', async () => {
      const obj = await getKMSDeployment(admin, NS, 'alpha');
      return obj?.status?.observedGeneration === 1 ? obj : undefined;
    });
    assert.deepEqual(reconciled.metadata.finalizers, [FINALIZER]);
    const conditions = reconciled.status?.conditions ?? [];
    assert.deepEqual(conditions.map((c) => c.type), ['SpecValid', 'CertificatesReady', 'Ready']);
    for (const condition of conditions) assert.equal(condition.observedGeneration, 1, `${condition.type}.observedGeneration`);
    assert.equal(conditions[0]?.status, 'True');
    assert.equal(conditions[2]?.status, 'True', 'Ready is True when every reported condition is');
    assert.deepEqual((reconciled.status as Record<string, unknown>).certificates, { notAfter: '2030-01-01T00:00:00Z' });

    const child = await configMap('alpha-info');
    assert.ok(child, 'the child ConfigMap exists');
    assert.deepEqual(child.metadata.ownerReferences, [{ apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment', name: 'alpha', uid: created.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    assert.equal(child.metadata.labels?.['app.kubernetes.io/managed-by'], 'kmsstack-operator');
    assert.equal(child.metadata.labels?.['app.kubernetes.io/instance'], 'alpha');
    const managers = (child.metadata.managedFields as Array<{ manager: string; operation: string }>).map((f) => `${f.manager}/${f.operation}`);
    assert.deepEqual(managers, ['kmsstack-operator/Apply']);
  });

  it('bumps observedGeneration on a spec change and keeps lastTransitionTime of unchanged conditions', async () => {
    const before = await getKMSDeployment(admin, NS, 'alpha');
    const readyBefore = before?.status?.conditions?.find((c) => c.type === 'Ready');
    await sleep(1100); // transition times have second precision
    await admin.apply(kmsDeployment('alpha', inNamespace(NS), autoEncrypting, withSpec({ minio: { replicas: 1, keyName: 'dev-key', autoEncryption: false, storage: { size: '1Gi' } } })));
    const after = await waitFor('observedGeneration 2', async () => {
      const obj = await getKMSDeployment(admin, NS, 'alpha');
      return obj?.status?.observedGeneration === 2 ? obj : undefined;
    });
    const readyAfter = after.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(readyAfter?.observedGeneration, 2);
    assert.equal(readyAfter?.lastTransitionTime, readyBefore?.lastTransitionTime, 'Ready did not flip, so its transition time stays');
    await waitFor('child follows the spec', async () => ((await configMap('alpha-info'))?.data as Record<string, string>)?.generation === '2' || undefined);
  });

  it('makes zero write requests when nothing changed', async () => {
    await sleep(1500); // let the watch events of the last writes arrive and their reconciles settle
    const callsBefore = stepCalls.count;
    const writesBefore = await writeCount(plane);
    for (let i = 0; i < 3; i++) {
      manager.queue.add(`${NS}/alpha`);
      await sleep(300);
    }
    await waitFor('three more reconciles', async () => (stepCalls.count >= callsBefore + 3 ? true : undefined));
    await sleep(500);
    assert.equal(await writeCount(plane), writesBefore, 'a reconcile where nothing changed wrote to the API server');
  });

  it('is not woken by an update of the status alone (its own status writes); an annotation wakes it', async () => {
    await sleep(1500);
    const editor = new KubeClient(admin.kubeConfig, 'test-editor'); // owns only what it writes here
    const callsBefore = stepCalls.count;
    for (let i = 0; i < 5; i++) {
      await editor.apply({ apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment', metadata: { name: 'alpha', namespace: NS },
        status: { observedGeneration: 100 + i } }, { subresource: 'status' });
      await sleep(250);
    }
    await sleep(500);
    // At most one: the 15 s resync may fall into this window.
    assert.ok(stepCalls.count <= callsBefore + 1, `${stepCalls.count - callsBefore} reconciles after 5 status updates`);
    const callsAfterStatus = stepCalls.count;
    await editor.apply({ apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment', metadata: { name: 'alpha', namespace: NS,
      annotations: { 'example.com/touched': 'yes' } } });
    await waitFor('a reconcile after the annotation', async () => (stepCalls.count > callsAfterStatus ? true : undefined), 10_000);
    await editor.close();
  });

  it('emits Events for what changed, once each', async () => {
    const list = await admin.list(resources.Event, NS);
    const forAlpha = list.items.filter((e) => (e.regarding as { name?: string }).name === 'alpha');
    const summary = forAlpha.map((e) => `${String(e.type)}/${String(e.reason)}: ${String(e.note)}`);
    assert.equal(summary.filter((s) => s.startsWith('Normal/Created: created ConfigMap alpha-info')).length, 1, summary.join('\n'));
    assert.equal(summary.filter((s) => s.startsWith('Normal/Ready')).length, 1, summary.join('\n'));
    assert.equal(forAlpha[0]?.reportingController, 'kmsstack.io/kmsstack-operator');
  });

  it('repairs a child edited by hand, from the event of the owned object (before any resync)', async () => {
    const callsBefore = stepCalls.count;
    const child = await configMap('alpha-info');
    await admin.replace({ ...(child as KubeObject), data: { owner: 'someone-else', generation: '2' } });
    const repaired = await waitFor('repair of alpha-info', async () => {
      const current = await configMap('alpha-info');
      return (current?.data as Record<string, string>)?.owner === 'alpha' ? current : undefined;
    }, 10_000);
    assert.ok(stepCalls.count > callsBefore, 'the edit enqueued the owner');
    assert.ok(repaired);
  });

  it('recreates a child deleted by hand', async () => {
    const old = await configMap('alpha-info');
    await admin.delete(resources.ConfigMap, NS, 'alpha-info');
    const recreated = await waitFor('recreated alpha-info', async () => {
      const current = await configMap('alpha-info');
      return current && current.metadata.uid !== old?.metadata.uid ? current : undefined;
    }, 10_000);
    assert.equal((recreated.data as Record<string, string>).owner, 'alpha');
  });

  it('repairs a child whose managed-by label was removed (it left the informer\'s selector)', async () => {
    const child = await configMap('alpha-info');
    const labels = { ...child?.metadata.labels };
    delete labels['app.kubernetes.io/managed-by'];
    await admin.replace({ ...(child as KubeObject), metadata: { ...(child as KubeObject).metadata, labels } });
    await waitFor('label restored', async () => ((await configMap('alpha-info'))?.metadata.labels?.['app.kubernetes.io/managed-by'] === 'kmsstack-operator' ? true : undefined), 10_000);
  });

  it('prunes children the steps no longer produce, and only its own', async () => {
    wanted = ['info', 'extra'];
    manager.queue.add(`${NS}/alpha`);
    await waitFor('alpha-extra', () => configMap('alpha-extra'));
    const foreign = await admin.create({
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: { name: 'alpha-foreign', namespace: NS, labels: { 'app.kubernetes.io/managed-by': 'kmsstack-operator', 'app.kubernetes.io/instance': 'alpha', 'app.kubernetes.io/part-of': 'kmsstack' } },
    });
    wanted = ['info'];
    manager.queue.add(`${NS}/alpha`);
    await waitFor('alpha-extra pruned', async () => ((await configMap('alpha-extra')) === undefined ? true : undefined));
    assert.ok(await configMap('alpha-info'));
    assert.ok(await configMap('alpha-foreign'), 'an object without our controller ownerReference is never pruned');
    await admin.delete(resources.ConfigMap, NS, 'alpha-foreign', foreign.metadata.uid);
  });

  it('reports an invalid spec as SpecValid=False and does not retry it until the object changes', async () => {
    // Two MinIO servers with one drive each: only the operator's semantic checks reject it.
    const layout = (replicas: number) => ({ minio: { replicas, keyName: 'dev-key', autoEncryption: true, storage: { size: '1Gi' } } });
    await admin.create(kmsDeployment('broken', inNamespace(NS), autoEncrypting, withSpec(layout(2))));
    const specValid = await waitFor('SpecValid=False', async () => {
      const obj = await getKMSDeployment(admin, NS, 'broken');
      return obj?.status?.conditions?.find((c) => c.type === 'SpecValid' && c.status === 'False');
    });
    assert.equal(specValid.reason, 'InvalidSpec');
    assert.match(specValid.message, /spec\.minio\.replicas/);
    assert.equal((await readyCondition('broken'))?.status, 'False');
    const obj = await getKMSDeployment(admin, NS, 'broken');
    assert.equal(obj?.metadata.finalizers, undefined, 'no finalizer before anything external could exist');
    const writesBefore = await writeCount(plane);
    manager.queue.add(`${NS}/broken`);
    await sleep(1000);
    assert.equal(await writeCount(plane), writesBefore, 'a terminal error is not retried');
    await admin.apply(kmsDeployment('broken', inNamespace(NS), autoEncrypting, withSpec(layout(1))));
    await waitFor('broken fixed and reconciled', async () => ((await readyCondition('broken'))?.status === 'True' ? true : undefined));
  });

  it('runs cleanup before removing the finalizer; a failing cleanup keeps the object until the skip annotation', async () => {
    await admin.create(kmsDeployment('doomed', inNamespace(NS), autoEncrypting));
    await waitFor('finalizer on doomed', async () => ((await getKMSDeployment(admin, NS, 'doomed'))?.metadata.finalizers?.includes(FINALIZER) ? true : undefined));
    cleanupFails = true;
    await admin.delete(resources.KMSDeployment, NS, 'doomed');
    await waitFor('cleanup attempts', async () => (cleanupCalls.filter((n) => n === 'doomed').length >= 2 ? true : undefined), 20_000);
    assert.ok(await getKMSDeployment(admin, NS, 'doomed'), 'the object stays while cleanup fails');
    const doomed = (await getKMSDeployment(admin, NS, 'doomed')) as KubeObject;
    await admin.apply({ apiVersion: doomed.apiVersion, kind: doomed.kind, metadata: { name: 'doomed', namespace: NS, annotations: { 'kmsstack.io/skip-vault-cleanup': 'true' } } });
    await waitFor('doomed deleted', async () => ((await getKMSDeployment(admin, NS, 'doomed')) === undefined ? true : undefined), 20_000);
    cleanupFails = false;

    await admin.create(kmsDeployment('clean', inNamespace(NS), autoEncrypting));
    await waitFor('finalizer on clean', async () => ((await getKMSDeployment(admin, NS, 'clean'))?.metadata.finalizers?.includes(FINALIZER) ? true : undefined));
    await admin.delete(resources.KMSDeployment, NS, 'clean');
    await waitFor('clean deleted', async () => ((await getKMSDeployment(admin, NS, 'clean')) === undefined ? true : undefined), 20_000);
    assert.ok(cleanupCalls.includes('clean'));
  });

  it('never recreates a deleted KMSDeployment through the finalizer apply (it carries the uid)', async () => {
    const ghost = await admin.create(kmsDeployment('ghost', inNamespace(NS), autoEncrypting));
    await waitFor('finalizer on ghost', async () => ((await getKMSDeployment(admin, NS, 'ghost'))?.metadata.finalizers?.includes(FINALIZER) ? true : undefined));
    await manager.stop(); // nobody removes the finalizer meanwhile
    try {
      const live = (await getKMSDeployment(admin, NS, 'ghost')) as KubeObject;
      await admin.replace({ ...live, metadata: { ...live.metadata, finalizers: [] } });
      await admin.delete(resources.KMSDeployment, NS, 'ghost');
      await waitFor('ghost gone', async () => ((await getKMSDeployment(admin, NS, 'ghost')) === undefined ? true : undefined));
      await assert.rejects(ensureFinalizer({ kube: manager.client }, ghost), (err: Error) => /uid|Precondition|not found|Conflict/i.test(err.message));
      assert.equal(await getKMSDeployment(admin, NS, 'ghost'), undefined, 'the apply did not create a new object');
    } finally {
      manager = newManager(plane, { steps: [configMapStep(() => wanted, stepCalls)], cleanups: [cleanup], config: testConfig({ resyncPeriodMs: 15_000 }) });
      await manager.start();
    }
  });

  it('recovers its watches after a kube-apiserver restart and reconciles a change made afterwards', async () => {
    const lists = async () => {
      const metrics = await (await fetch(`http://127.0.0.1:${manager.httpPort}/metrics`)).text();
      return [...metrics.matchAll(/^kmsstack_kube_requests_total\{verb="list",resource="configmaps",code="200"\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    };
    const listsBefore = await lists();
    await plane.restartApiServer();
    await admin.apply(kmsDeployment('alpha', inNamespace(NS), autoEncrypting, withSpec({ minio: { replicas: 1, keyName: 'dev-key', autoEncryption: true, storage: { size: '1Gi' } } })));
    const generation = (await getKMSDeployment(admin, NS, 'alpha'))?.metadata.generation;
    await waitFor('reconcile after restart', async () => ((await getKMSDeployment(admin, NS, 'alpha'))?.status?.observedGeneration === generation ? true : undefined), 60_000);
    // A child deleted after the restart is repaired too: the owned-object watches recovered as well.
    await admin.delete(resources.ConfigMap, NS, 'alpha-info');
    await waitFor('alpha-info recreated after restart', () => configMap('alpha-info'), 60_000);
    const metrics = await (await fetch(`http://127.0.0.1:${manager.httpPort}/metrics`)).text();
    const restarts = [...metrics.matchAll(/^kmsstack_watch_restarts_total\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    assert.ok(restarts > 0, 'the failed watches were restarted (and counted)');
    // The restarted API server's watch cache starts after our last resourceVersion: 410 Gone, relist.
    assert.ok((await lists()) > listsBefore, 'the ConfigMap informer relisted after 410 Gone');
  });

  it('serves /healthz, /readyz and /metrics with reconcile, queue and API call metrics', async () => {
    const base = `http://127.0.0.1:${manager.httpPort}`;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const name of ['kmsstack_reconcile_total{controller="kmsdeployment",result="success"}', 'kmsstack_reconcile_duration_seconds_bucket', 'kmsstack_workqueue_depth',
      'kmsstack_workqueue_queue_duration_seconds_bucket', 'kmsstack_kube_requests_total{verb="apply",resource="configmaps",code="200"}', 'kmsstack_kube_request_duration_seconds_bucket',
      'kmsstack_reconcile_total{controller="kmsdeployment",result="terminal"}', 'kmsstack_vault_requests_total', 'kmsstack_kes_requests_total',
      'kmsstack_kmsdeployment_condition{namespace=']) {
      assert.ok(metrics.includes(name), `/metrics lacks ${name}`);
    }
  });

  it('re-enqueues every KMSDeployment on the periodic resync (namespace-scoped manager)', async () => {
    await ensureNamespace(admin, 'rt-resync');
    await admin.create(kmsDeployment('quiet', inNamespace('rt-resync'), autoEncrypting));
    const calls = { count: 0 };
    const scoped = newManager(plane, { steps: [configMapStep(() => ['info'], calls)], config: testConfig({ namespaces: ['rt-resync'], resyncPeriodMs: 1500, httpBindAddress: undefined }) });
    await scoped.start();
    try {
      await waitFor('first reconcile', async () => (calls.count >= 1 ? true : undefined));
      await sleep(1000); // settle: the children's and status's own events
      const settled = calls.count;
      await waitFor('reconciles from resync alone', async () => (calls.count >= settled + 2 ? true : undefined), 10_000);
      assert.equal(scoped.cache.listAll('KMSDeployment').every((o) => o.metadata.namespace === 'rt-resync'), true, 'only the watched namespace is cached');
    } finally {
      await scoped.stop();
    }
  });
});
