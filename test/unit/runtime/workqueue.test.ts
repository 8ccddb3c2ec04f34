import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_DELAY_MS, WorkQueue } from '../../../src/runtime/workqueue.ts';
import { KeyedBackoff } from '../../../src/runtime/backoff.ts';
import { FakeClock } from './fake-clock.ts';

const newQueue = (clock = new FakeClock()) => ({ clock, queue: new WorkQueue({ name: 'test', clock, backoff: { baseMs: 100, maxMs: 1000 } }) });

describe('WorkQueue', () => {
  it('de-duplicates a key added several times before a worker takes it', async () => {
    const { queue } = newQueue();
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    assert.equal(queue.length, 2);
    assert.equal(await queue.get(), 'ns/a');
    assert.equal(await queue.get(), 'ns/b');
    assert.equal(queue.length, 0);
  });

  it('never hands the same key to two workers; an add while in flight re-queues it once after done()', async () => {
    const { queue } = newQueue();
    queue.add('ns/a');
    const key = await queue.get();
    assert.equal(key, 'ns/a');
    queue.add('ns/a');
    queue.add('ns/a');
    assert.equal(queue.length, 0, 'the in-flight key must not be queued');
    let second: string | undefined;
    const secondWorker = queue.get().then((k) => (second = k));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(second, undefined, 'a second worker must not get the in-flight key');
    queue.done('ns/a');
    await secondWorker;
    assert.equal(second, 'ns/a', 'after done() the key is handed out again, once');
    queue.done('ns/a');
    assert.equal(queue.length, 0);
    assert.equal(queue.inFlight, 0);
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const { queue } = newQueue();
    const pending = queue.get();
    queue.add('ns/a');
    assert.equal(await pending, 'ns/a');
    assert.equal(queue.inFlight, 1);
  });

  it('addAfter delays the key and keeps the earliest due time', async () => {
    const { clock, queue } = newQueue();
    queue.addAfter('ns/a', 500);
    queue.addAfter('ns/a', 2000);
    assert.equal(clock.pendingTimers, 1);
    clock.advance(499);
    assert.equal(queue.length, 0);
    clock.advance(1);
    assert.equal(queue.length, 1);
    assert.equal(await queue.get(), 'ns/a');

    queue.done('ns/a');
    queue.addAfter('ns/b', 2000);
    queue.addAfter('ns/b', 300); // earlier wins: the 2000ms timer is replaced
    assert.equal(clock.pendingTimers, 1);
    clock.advance(300);
    assert.equal(queue.length, 1);
  });

  it('clamps a delay longer than a Node timer can take, instead of firing it at once', () => {
    const { clock, queue } = newQueue();
    queue.addAfter('ns/a', 40 * 24 * 3600 * 1000);
    clock.advance(1);
    assert.equal(queue.length, 0, 'an overlong delay must not fire after 1 ms');
    clock.advance(MAX_DELAY_MS - 1);
    assert.equal(queue.length, 1, 'it fires at the longest delay a timer can take');
  });

  it('backs off exponentially per key up to the cap, and forget() resets it', () => {
    const { clock, queue } = newQueue();
    const delays = [1, 2, 3, 4, 5, 6].map(() => queue.addRateLimited('ns/a'));
    assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000]);
    assert.equal(queue.addRateLimited('ns/b'), 100, 'backoff is per key');
    queue.forget('ns/a');
    assert.equal(queue.failures('ns/a'), 0);
    assert.equal(queue.addRateLimited('ns/a'), 100);
    clock.advance(100);
    assert.equal(queue.length, 2);
  });

  it('caps huge failure counts without overflow', () => {
    const backoff = new KeyedBackoff({ baseMs: 5, maxMs: 60_000 });
    let last = 0;
    for (let i = 0; i < 2000; i++) last = backoff.next('k');
    assert.equal(last, 60_000);
  });

  it('rejects a cap below the base', () => {
    assert.throws(() => new KeyedBackoff({ baseMs: 10, maxMs: 5 }), /base/);
  });

  it('shutdown releases waiting workers, drops delayed keys, and drained() waits for in-flight keys', async () => {
    const { clock, queue } = newQueue();
    queue.add('ns/a');
    const key = await queue.get();
    const waiting = queue.get();
    queue.addAfter('ns/b', 100);
    queue.shutdown();
    assert.equal(await waiting, undefined);
    clock.advance(1000);
    assert.equal(queue.length, 0);
    queue.add('ns/c');
    assert.equal(queue.length, 0, 'no adds after shutdown');
    let drained = false;
    const drainedPromise = queue.drained().then(() => (drained = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(drained, false);
    queue.done(key as string);
    await drainedPromise;
    assert.equal(drained, true);
  });

  it('get(accept) hands out the oldest key it accepts and leaves the others in order', async () => {
    const { queue } = newQueue();
    const notSlow = (key: string) => key !== 'ns/slow';
    queue.add('ns/slow');
    queue.add('ns/a');
    assert.equal(await queue.get(notSlow), 'ns/a');
    let filtered: string | undefined;
    const waiting = queue.get(notSlow).then((k) => (filtered = k));
    queue.add('ns/slow-again');
    assert.equal(await queue.get(), 'ns/slow', 'an unfiltered get takes the refused key');
    await waiting;
    assert.equal(filtered, 'ns/slow-again', 'a waiting filtered get receives an accepted key');
    queue.done('ns/slow');
    queue.add('ns/slow');
    assert.equal(queue.length, 1, 'no waiter: it stays ready');
    let refused = false;
    void queue.get(notSlow).then(() => (refused = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(refused, false, 'a filtered waiter does not take a key it refuses');
    queue.shutdown();
  });
});
