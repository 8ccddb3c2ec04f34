// Leader election between managers with separate clients on a real kube-apiserver: exactly one
// reconciles; a crashed leader is replaced within the lease duration; a graceful stop releases the
// lease for an immediate handover; a leader whose lease is taken stops its workers.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../../support/stack.ts';
import { suiteFixture } from '../../support/suite.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { resources, type KubeObject } from '../../../src/runtime/kube/resources.ts';
import type { Manager } from '../../../src/runtime/manager.ts';
import { autoEncrypting, configMapStep, waitFor } from './harness.ts';
import { inNamespace, kmsDeployment } from '../../support/kmsdeployment.ts';
import { newManager, testConfig } from '../../support/operator.ts';

const NS = 'le';
const LEASE = { leaseName: 'kmsstack-le-test', namespace: NS, leaseDurationMs: 6_000, renewDeadlineMs: 4_000, retryPeriodMs: 1_000 };

interface Candidate {
  name: string;
  manager: Manager;
  calls: { count: number };
}

describe('leader election (real kube-apiserver)', { timeout: 300_000 }, () => {
  const candidates: Candidate[] = [];
  const stack = suiteFixture(() => startStack({ vault: false, namespace: NS }), async () => {
    for (const c of candidates) await c.manager.stop();
  });

  const candidate = async (name: string): Promise<Candidate> => {
    const calls = { count: 0 };
    const manager = newManager(stack.plane, {
      steps: [configMapStep(() => ['info'], calls)],
      config: testConfig({ httpBindAddress: undefined }, { enabled: true, identity: name, ...LEASE }),
    });
    const entry = { name, manager, calls };
    candidates.push(entry);
    await manager.start();
    return entry;
  };
  const lease = async () => (await stack.kube.get(resources.Lease, NS, LEASE.leaseName)) as (KubeObject & { spec: { holderIdentity?: string; leaseDurationSeconds?: number; leaseTransitions?: number } }) | undefined;
  const touch = async (value: string) => {
    await stack.kube.apply({ apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment', metadata: { name: 'shared', namespace: NS, annotations: { 'test/touch': value } } });
  };

  before(async () => {
    await stack.kube.create(kmsDeployment('shared', inNamespace(NS), autoEncrypting));
  });

  it('lets exactly one of two managers reconcile', async () => {
    const [a, b] = [await candidate('op-a'), await candidate('op-b')];
    const leader = await waitFor('a leader', async () => [a, b].find((c) => c.manager.isLeader));
    const standby = leader === a ? b : a;
    await waitFor('leader reconciled', async () => (leader.calls.count > 0 ? true : undefined));
    for (let i = 0; i < 3; i++) {
      await touch(`round-${i}`);
      standby.manager.queue.add(`${NS}/shared`); // even a key in the standby's queue is not worked on
      await sleep(500);
    }
    assert.equal(standby.manager.isLeader, false);
    assert.equal(standby.manager.state, 'standby');
    assert.equal(standby.calls.count, 0, 'the standby never reconciled');
    assert.ok(leader.calls.count >= 2);
    assert.equal((await lease())?.spec.holderIdentity, leader.name);
  });

  it('hands over within the lease duration when the leader dies without releasing', async () => {
    const leader = candidates.find((c) => c.manager.isLeader) as Candidate;
    const standby = candidates.find((c) => c !== leader && c.manager.state === 'standby') as Candidate;
    const transitionsBefore = (await lease())?.spec.leaseTransitions ?? 0;
    const killedAt = Date.now();
    await leader.manager.kill();
    assert.equal((await lease())?.spec.holderIdentity, leader.name, 'a killed leader does not release');
    await waitFor('standby takes over', async () => (standby.manager.isLeader ? true : undefined), 20_000, 50);
    const handover = Date.now() - killedAt;
    // The standby observes the last renewal up to one retry period late, then retries with jitter.
    assert.ok(handover <= LEASE.leaseDurationMs + 2.2 * LEASE.retryPeriodMs + 1_000, `handover took ${handover} ms`);
    assert.ok(handover >= LEASE.leaseDurationMs - LEASE.retryPeriodMs - 500, `handover after ${handover} ms: the lease was not respected`);
    const after = await lease();
    assert.equal(after?.spec.holderIdentity, standby.name);
    assert.equal(after?.spec.leaseTransitions, transitionsBefore + 1);
    const before = standby.calls.count;
    await touch('after-handover');
    await waitFor('new leader reconciles', async () => (standby.calls.count > before ? true : undefined));
  });

  it('releases the lease on a graceful stop, so the next candidate takes over at once', async () => {
    const leader = candidates.find((c) => c.manager.isLeader) as Candidate;
    const next = await candidate('op-c');
    await sleep(1500);
    assert.equal(next.manager.isLeader, false);
    const stoppedAt = Date.now();
    await leader.manager.stop();
    await waitFor('op-c takes over', async () => (next.manager.isLeader ? true : undefined), 10_000, 50);
    const handover = Date.now() - stoppedAt;
    assert.ok(handover < LEASE.leaseDurationMs - 1_000, `handover after release took ${handover} ms`);
  });

  it('stops the workers of a leader whose lease was taken', async () => {
    const leader = candidates.find((c) => c.manager.isLeader) as Candidate;
    let lostCalled = false;
    leader.manager.onLeadershipLost(() => (lostCalled = true));
    const current = await lease();
    const now = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
    await stack.kube.replace({ ...(current as KubeObject), spec: { ...current?.spec, holderIdentity: 'intruder', renewTime: now, acquireTime: now, leaseDurationSeconds: 60 } });
    await waitFor('leader notices', async () => (lostCalled ? true : undefined), 10_000, 50);
    assert.equal(leader.manager.state, 'lost');
    const before = leader.calls.count;
    await touch('after-loss');
    leader.manager.queue.add(`${NS}/shared`);
    await sleep(1500);
    assert.equal(leader.calls.count, before, 'a leader that lost its lease must not reconcile');
  });
});
