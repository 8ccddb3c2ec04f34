import { describe, it } from 'node:test';
import { testLogger } from '../../support/logger.ts';
import assert from 'node:assert/strict';
import { Controller, TerminalError, type ReconcileRequest, type ReconcileResult } from '../../../src/runtime/controller.ts';
import { WorkQueue } from '../../../src/runtime/workqueue.ts';
import { FakeClock } from './fake-clock.ts';

const silent = testLogger();
const tick = () => new Promise((resolve) => setImmediate(resolve));

function setup(reconcile: (request: ReconcileRequest) => Promise<ReconcileResult>, changeToken: (key: string) => string | undefined = () => 'v1', workers = 2) {
  const clock = new FakeClock();
  const queue = new WorkQueue({ name: 'test-controller', clock, backoff: { baseMs: 100, maxMs: 400 } });
  const controller = new Controller({ name: 'test', queue, reconcile, workers, logger: silent, changeToken });
  controller.start();
  return { clock, queue, controller };
}

describe('Controller', () => {
  it('runs different keys concurrently but one key at most once at a time', async () => {
    let running = 0;
    let maxRunning = 0;
    const perKey = new Map<string, number>();
    let maxPerKey = 0;
    const gates: Array<() => void> = [];
    const { queue, controller } = setup(async ({ key }) => {
      running++;
      perKey.set(key, (perKey.get(key) ?? 0) + 1);
      maxRunning = Math.max(maxRunning, running);
      maxPerKey = Math.max(maxPerKey, perKey.get(key) ?? 0);
      await new Promise<void>((resolve) => gates.push(resolve));
      perKey.set(key, (perKey.get(key) ?? 1) - 1);
      running--;
      return {};
    }, undefined, 3);
    queue.add('ns/a');
    queue.add('ns/b');
    await tick();
    queue.add('ns/a'); // while ns/a is in flight
    await tick();
    assert.equal(running, 2);
    gates.splice(0).forEach((open) => open());
    await tick();
    await tick();
    assert.equal(running, 1, 'ns/a runs again after its first reconcile finished');
    gates.splice(0).forEach((open) => open());
    await tick();
    assert.equal(maxPerKey, 1);
    assert.equal(maxRunning, 2);
    assert.equal(await controller.stop(1000), true);
  });

  it('retries errors with capped per-key backoff and forgets the backoff after a success', async () => {
    let calls = 0;
    let failUntil = 4;
    const { clock, queue, controller } = setup(async () => {
      calls++;
      if (calls <= failUntil) throw new Error('vault unreachable');
      return {};
    });
    queue.add('ns/a');
    await tick();
    assert.equal(calls, 1);
    for (const delay of [100, 200, 400]) {
      clock.advance(delay - 1);
      await tick();
      assert.equal(queue.isDelayed('ns/a'), true);
      clock.advance(1);
      await tick();
    }
    assert.equal(calls, 4);
    assert.equal(queue.failures('ns/a'), 4);
    clock.advance(400); // capped: 100, 200, 400, 400
    await tick();
    assert.equal(calls, 5);
    assert.equal(queue.failures('ns/a'), 0, 'success resets the backoff');
    failUntil = 0;
    await controller.stop(1000);
  });

  it('requeues after requeueAfterMs without counting a failure', async () => {
    let calls = 0;
    const { clock, queue, controller } = setup(async () => {
      calls++;
      return calls === 1 ? { requeueAfterMs: 5000 } : {};
    });
    queue.add('ns/a');
    await tick();
    assert.equal(queue.isDelayed('ns/a'), true);
    assert.equal(queue.failures('ns/a'), 0);
    clock.advance(4999);
    await tick();
    assert.equal(calls, 1);
    clock.advance(1);
    await tick();
    assert.equal(calls, 2);
    await controller.stop(1000);
  });

  it('times a retry result with the rate limiter, with growing delays, and forgets them after a plain success', async () => {
    let calls = 0;
    const { clock, queue, controller } = setup(async () => {
      calls++;
      return calls <= 2 ? { retry: true, requeueAfterMs: 60_000 } : {};
    });
    queue.add('ns/a');
    await tick();
    assert.equal(queue.failures('ns/a'), 1, 'a retry counts like a failure');
    clock.advance(100);
    await tick();
    assert.equal(calls, 2, 'the rate limiter, not requeueAfterMs, picks the delay');
    clock.advance(199);
    await tick();
    assert.equal(calls, 2, 'the second delay is longer');
    clock.advance(1);
    await tick();
    assert.equal(calls, 3);
    assert.equal(queue.failures('ns/a'), 0, 'success resets the backoff');
    await controller.stop(1000);
  });

  it('does not retry a terminal error until the object changes', async () => {
    let calls = 0;
    let token = 'gen-1';
    const { clock, queue, controller } = setup(async () => {
      calls++;
      throw new TerminalError('spec.kes.replicas: must be at least 1');
    }, () => token);
    queue.add('ns/a');
    await tick();
    assert.equal(calls, 1);
    assert.equal(queue.isDelayed('ns/a'), false, 'no backoff retry is scheduled');
    clock.advance(60_000);
    queue.add('ns/a'); // e.g. resync or an owned object's event
    await tick();
    assert.equal(calls, 1, 'same object: skipped');
    token = 'gen-2';
    queue.add('ns/a');
    await tick();
    assert.equal(calls, 2, 'the object changed: reconciled again');
    await controller.stop(1000);
  });

  it('reconciles again when the object changed while a terminally failing reconcile ran', async () => {
    let calls = 0;
    let token = 'gen-1';
    const { queue, controller } = setup(async () => {
      calls++;
      if (calls === 1) {
        token = 'gen-2'; // a user fixes the spec while the first reconcile still works on gen-1
        queue.add('ns/a');
      }
      throw new TerminalError('invalid');
    }, () => token);
    queue.add('ns/a');
    await tick();
    await tick();
    assert.equal(calls, 2, 'the change made during the reconcile is not skipped');
    await controller.stop(1000);
  });

  it('stop() waits for in-flight reconciles up to the timeout, then aborts them', async () => {
    let aborted = false;
    let release: () => void = () => {};
    const { queue, controller } = setup(({ signal }) => new Promise<ReconcileResult>((resolve) => {
      release = () => resolve({});
      signal.addEventListener('abort', () => {
        aborted = true;
        resolve({});
      });
    }));
    queue.add('ns/slow');
    await tick();
    const stopping = controller.stop(50);
    queue.add('ns/other');
    assert.equal(await stopping, false);
    assert.equal(aborted, true);
    release();

    const second = setup(async () => ({}));
    second.queue.add('ns/a');
    assert.equal(await second.controller.stop(1000), true);
  });
});
