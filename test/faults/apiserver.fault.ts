// Faults of the control plane:
// - kube-apiserver restarted: the operator's watches and lease renewals fail for the restart, then
//   it carries on (same process) and processes the changes made right after;
// - the operator cut off (SIGSTOP, as a long partition or GC pause) while kube-apiserver restarts,
//   objects change and etcd is compacted to its current revision (through etcd's HTTP gateway):
//   on SIGCONT its watches resume from a resourceVersion that no longer exists, get 410 Gone,
//   relist (counted in kmsstack_kube_requests_total{verb="list"}), and it processes what changed.
// The operator runs with a 30 s lease / 20 s renew deadline so the outages here stay below it;
// with the defaults (15 s / 10 s) an API server outage beyond 10 s makes the leader exit 1 on
// purpose (see docs/runtime.md) and its Deployment restarts it.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { kesNames } from '../../src/workload/names.ts';
import { pkiSecretNames } from '../../src/pki/names.ts';
import { resources, type KubeObject } from '../../src/runtime/kube/resources.ts';
import { waitFor } from '../env/process.ts';
import { waitConverged, type Tracked } from './checks.ts';
import type { OperatorProcess } from './operator.ts';
import { recordOneTrial } from './results.ts';
import { patchSpec, startFaultStack, vaultDeployment, type FaultStack } from './stack.ts';
import { suiteFixture } from '../support/suite.ts';

const NS = 'apiserver-faults';
const LEASE = { duration: '30s', renewDeadline: '20s', retryPeriod: '2s' };
const LIMIT_MS = 60_000;

async function etcd(stack: FaultStack, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${stack.plane.etcdEndpoint}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
  if (!res.ok) throw new Error(`etcd ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/** Compacts etcd's history up to its current revision; returns that revision. */
async function compactEtcd(stack: FaultStack): Promise<string> {
  const range = await etcd(stack, '/v3/kv/range', { key: Buffer.from('/').toString('base64') });
  const revision = String((range.header as { revision?: string } | undefined)?.revision ?? '');
  if (!revision) throw new Error(`etcd range gave no revision: ${JSON.stringify(range)}`);
  await etcd(stack, '/v3/kv/compaction', { revision, physical: true });
  return revision;
}

describe('fault: kube-apiserver restarted, etcd compacted', { timeout: 600_000 }, () => {
  const stack = suiteFixture(() => startFaultStack({ namespace: NS }));
  let operator: OperatorProcess;
  const a: Tracked = { namespace: NS, name: 'a' };
  const b: Tracked = { namespace: NS, name: 'b' };

  before(async () => {
    await stack.kube.create(vaultDeployment(stack, NS, a.name));
    operator = await stack.startReconcilingOperator({ leaseNamespace: NS, leaseName: 'apiserver-faults', lease: LEASE, httpAddress: '127.0.0.1:0' });
    await waitConverged(stack, [a]);
  });


  const kesReplicas = async () => ((await stack.kube.get(resources.Deployment, NS, kesNames(a.name).workload)) as (KubeObject & { spec?: { replicas?: number } }) | undefined)?.spec?.replicas;
  const secretExists = async (name: string) => (await stack.kube.get(resources.Secret, NS, name)) !== undefined;

  it('carries on after a kube-apiserver restart and processes the changes made right after it', async () => {
    let took: number | undefined;
    try {
      await stack.plane.restartApiServer();
      const backAt = Date.now();
      await patchSpec(stack, NS, a.name, { kes: { replicas: 2 } });
      await stack.kube.delete(resources.Secret, NS, kesNames(a.name).configSecret);
      await waitFor('the changes to be processed', async () => {
        operator.assertAlive('after the API server restart');
        return (await kesReplicas()) === 2 && (await secretExists(kesNames(a.name).configSecret)) ? true : undefined;
      }, LIMIT_MS, 100);
      await waitConverged(stack, [a], [], LIMIT_MS, () => operator.assertAlive());
      took = Date.now() - backAt;
    } finally {
      recordOneTrial(
        'kube-apiserver restarted (watches and lease renewals fail meanwhile)',
        'the API server ready again',
        took,
        'same operator process throughout; a spec change and a deleted Secret made right after the restart were processed',
      );
    }
    operator.assertAlive();
  });

  it('after being cut off while etcd was compacted and the API server restarted: 410 Gone, relist, and the changes made meanwhile are processed', async () => {
    let took: number | undefined;
    let relists = 0;
    try {
      const listsBefore = await operator.metric('kmsstack_kube_requests_total', { verb: 'list' });
      operator.pause();
      try {
        // Restart first: changes made while the old API server still runs would reach the paused
        // process's socket buffers and be read on SIGCONT, before the watches notice the restart.
        await stack.plane.restartApiServer();
        await stack.kube.create(vaultDeployment(stack, NS, b.name));
        await patchSpec(stack, NS, a.name, { kes: { replicas: 3 } });
        await stack.kube.delete(resources.Secret, NS, pkiSecretNames(a.name).leaves.kesServer);
        await compactEtcd(stack);
      } finally {
        operator.resume();
      }
      const resumedAt = Date.now();
      await waitFor('the changes made meanwhile to be processed', async () => {
        operator.assertAlive('after resuming');
        return (await kesReplicas()) === 3 && (await secretExists(pkiSecretNames(a.name).leaves.kesServer)) ? true : undefined;
      }, LIMIT_MS, 100);
      await waitConverged(stack, [a, b], [], LIMIT_MS, () => operator.assertAlive());
      took = Date.now() - resumedAt;
      relists = await waitFor('the informers to relist', async () => {
        const lists = (await operator.metric('kmsstack_kube_requests_total', { verb: 'list' })) - listsBefore;
        return lists > 0 ? lists : undefined;
      }, LIMIT_MS, 200).catch(() => 0);
    } finally {
      recordOneTrial(
        'operator cut off (SIGSTOP) while kube-apiserver restarted, objects changed and etcd was compacted; watches get 410 Gone',
        'SIGCONT',
        took,
        `${relists} list requests after resuming (relists after 410 Gone); a new KMSDeployment, a spec change and a deleted Secret made meanwhile were all processed`,
      );
    }
    assert.ok(relists > 0, 'the informers relisted (410 Gone path)');
    operator.assertAlive();
    await operator.stop();
  });
});
