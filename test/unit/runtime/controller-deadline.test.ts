// The controller's protection against slow tenants: a reconcile's deadline, a worker that moves on
// from a reconcile ignoring it (without running its key twice), and the worker that takes no slow key.
import { testLogger } from '../../support/logger.ts';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Controller, ReconcileTimeoutError, type ReconcileRequest, type ReconcileResult } from '../../../src/runtime/controller.ts';
import { WorkQueue } from '../../../src/runtime/workqueue.ts';
import { FakeClock } from './fake-clock.ts';

const silent = testLogger();

function setup(reconcile: (request: ReconcileRequest) => Promise<ReconcileResult>, options: { workers: number; reconcileTimeoutMs: number; slowReconcileMs?: number }) {
  const clock = new FakeClock();
  const queue = new WorkQueue({ name: 'test-deadline', clock, backoff: { baseMs: 100, maxMs: 400 } });
  const controller = new Controller({ name: 'test', queue, reconcile, logger: silent, changeToken: () => 'v1', ...options });
  controller.start();
  return { clock, queue, controller };
}

/** A promise and the function that resolves it. */
function gate(): { promise: Promise<ReconcileResult>; open: () => void } {
  let open: () => void = () => undefined;
  const promise = new Promise<ReconcileResult>((resolve) => (open = () => resolve({})));
  return { promise, open };
}

describe('Controller deadlines and fairness', () => {
  it('aborts the signal of a reconcile past its deadline and retries it with backoff', async () => {
    const reasons: unknown[] = [];
    const { clock, queue, controller } = setup(({ signal }) => new Promise<ReconcileResult>((_resolve, reject) => {
      signal.addEventListener('abort', () => {
        reasons.push(signal.reason);
        reject(signal.reason as Error);
      });
    }), { workers: 1, reconcileTimeoutMs: 30 });
    queue.add('ns/a');
    await sleep(60);
    assert.equal(reasons.length, 1);
    assert.ok(reasons[0] instanceof ReconcileTimeoutError);
    assert.match((reasons[0] as Error).message, /did not finish within 30 ms \(--reconcile-timeout\)/);
    assert.equal(queue.failures('ns/a'), 1, 'counted as a failure');
    assert.equal(queue.isDelayed('ns/a'), true, 'retried after the backoff');
    clock.advance(100);
    await sleep(10);
    assert.equal(reasons.length, 1, 'the retry runs (and waits for its own deadline)');
    assert.equal(queue.inFlight, 1);
    await controller.stop(200);
  });

  it('a reconcile that ignores its deadline gives its worker back, and its key does not run again until it ends', async () => {
    const hung = gate();
    const runs: string[] = [];
    const { clock, queue, controller } = setup(async ({ key }) => {
      runs.push(key);
      if (key === 'ns/stuck' && runs.filter((k) => k === key).length === 1) return hung.promise;
      return {};
    }, { workers: 1, reconcileTimeoutMs: 20 });
    queue.add('ns/stuck');
    await sleep(5);
    queue.add('ns/other');
    await sleep(10);
    assert.deepEqual(runs, ['ns/stuck'], 'the only worker is busy before the deadline');
    await sleep(50);
    assert.deepEqual(runs, ['ns/stuck', 'ns/other'], 'after deadline and grace the worker took the next key');
    clock.advance(100); // the timeout's backoff retry is due, but ns/stuck is still in flight
    queue.add('ns/stuck');
    await sleep(10);
    assert.deepEqual(runs, ['ns/stuck', 'ns/other'], 'the still-running key is not handed out again');
    hung.open();
    await sleep(10);
    assert.deepEqual(runs, ['ns/stuck', 'ns/other', 'ns/stuck'], 'it runs again once the late reconcile ended');
    assert.equal(await controller.stop(200), true);
  });

  it('keeps one worker for keys whose last reconcile was not slow', async () => {
    const gates = new Map<string, ReturnType<typeof gate>>();
    const runs: string[] = [];
    const { queue, controller } = setup(async ({ key }) => {
      runs.push(key);
      if (key === 'ns/healthy') return {};
      const first = runs.filter((k) => k === key).length === 1;
      if (first) {
        await sleep(30); // slower than slowReconcileMs: the key is marked slow
        return {};
      }
      const g = gate();
      gates.set(key, g);
      return g.promise; // slow tenants stall from now on
    }, { workers: 2, reconcileTimeoutMs: 60_000, slowReconcileMs: 20 });
    queue.add('ns/slow-1');
    queue.add('ns/slow-2');
    await sleep(50);
    queue.add('ns/slow-1');
    queue.add('ns/slow-2');
    await sleep(10);
    assert.equal(gates.size, 1, 'only one worker runs a slow key; the other refuses slow-2');
    queue.add('ns/healthy');
    await sleep(10);
    assert.ok(runs.includes('ns/healthy'), 'a healthy key still gets a worker while slow keys stall');
    for (const g of gates.values()) g.open();
    await sleep(10);
    assert.equal(gates.size, 2, 'slow-2 runs on the shared worker once it is free');
    for (const g of gates.values()) g.open();
    assert.equal(await controller.stop(500), true);
  });
});
