// The list-then-watch loop against a scripted server: what it lists and watches from, what it tells
// its listeners, and how it resumes after a close, a timeout, a failure and a 410.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../../src/runtime/kube/resources.ts';
import { type ListResult, Reflector, type WatchEventHandler } from '../../../src/runtime/reflector.ts';
import { FakeClock } from './fake-clock.ts';

const settle = () => new Promise((resolve) => setImmediate(resolve));
const pod = (name: string, resourceVersion: string, namespace = 'a'): KubeObject => ({ apiVersion: 'v1',
  kind: 'Pod', metadata: { name, namespace, resourceVersion } });

interface WatchCall {
  resourceVersion: string;
  send: WatchEventHandler;
  end: (err?: unknown) => void;
  signal: AbortSignal;
}

function scriptedServer(lists: Array<ListResult | Error>) {
  const watches: WatchCall[] = [];
  const errors: Array<{ err: unknown; retryInMs: number }> = [];
  const events: string[] = [];
  let listCalls = 0;
  const clock = new FakeClock();
  const reflector = new Reflector({
    list: () => {
      const next = lists[Math.min(listCalls++, lists.length - 1)] as ListResult | Error;
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
    watch: (resourceVersion, send, end, signal) => {
      watches.push({ resourceVersion, send, end, signal });
      return Promise.resolve();
    },
    onError: (err, retryInMs) => errors.push({ err, retryInMs }),
    clock,
    backoff: { baseMs: 500, maxMs: 4000 },
  });
  for (const event of ['add', 'update', 'delete'] as const) {
    reflector.on(event, (obj) => events.push(`${event} ${obj.metadata.name}@${obj.metadata.resourceVersion}`));
  }
  return { reflector, watches, errors, events, clock, listCalls: () => listCalls,
    lastWatch: () => watches.at(-1) as WatchCall };
}

describe('Reflector', () => {
  it('lists, watches from the list, and keeps the store as events arrive', async () => {
    const s = scriptedServer([{ items: [pod('p1', '10'), pod('p2', '11', 'b')], resourceVersion: '12' }]);
    await s.reflector.start();
    assert.ok(s.reflector.hasSynced);
    assert.equal(s.lastWatch().resourceVersion, '12');
    s.lastWatch().send('ADDED', pod('p3', '13'));
    s.lastWatch().send('MODIFIED', pod('p1', '14'));
    s.lastWatch().send('MODIFIED', pod('p1', '14')); // the same version again: no event
    s.lastWatch().send('DELETED', pod('p2', '15', 'b'));
    s.lastWatch().send('DELETED', pod('gone', '16')); // never seen: no event
    assert.deepEqual(s.events, ['add p1@10', 'add p2@11', 'add p3@13', 'update p1@14', 'delete p2@15']);
    assert.deepEqual(s.reflector.list().map((o) => o.metadata.name).sort(), ['p1', 'p3']);
    assert.deepEqual(s.reflector.list('b'), []);
    assert.equal(s.reflector.get('p1', 'a')?.metadata.resourceVersion, '14');
    s.reflector.stop();
  });

  it('after the server closes a watch, watches again from the last version seen, bookmarks included', async () => {
    const s = scriptedServer([{ items: [], resourceVersion: '5' }]);
    await s.reflector.start();
    s.lastWatch().send('ADDED', pod('p1', '6'));
    s.lastWatch().send('BOOKMARK', { apiVersion: 'v1', kind: 'Pod', metadata: { resourceVersion: '9' } });
    s.lastWatch().end();
    await settle();
    assert.equal(s.watches.length, 2);
    assert.equal(s.lastWatch().resourceVersion, '9');
    assert.equal(s.listCalls(), 1, 'no new list');
    assert.deepEqual(s.errors, []);
    // A close without any event waits a little, longer each time, so a server that closes at once is not hammered.
    s.lastWatch().end();
    await settle();
    assert.equal(s.watches.length, 2);
    s.clock.advance(500);
    await settle();
    assert.equal(s.watches.length, 3);
    // One that ran a while before the close was not refused: at once again.
    s.clock.advance(5_000);
    s.lastWatch().end();
    await settle();
    assert.equal(s.watches.length, 4);
    s.reflector.stop();
  });

  it('a watch the client timed out for silence resumes at once; a failed one after a backoff, from the same version', async () => {
    const s = scriptedServer([{ items: [pod('p1', '3')], resourceVersion: '4' }]);
    await s.reflector.start();
    s.lastWatch().end(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    await settle();
    assert.equal(s.watches.length, 2);
    assert.equal(s.errors.length, 0);
    s.lastWatch().end(Object.assign(new Error('Forbidden'), { statusCode: 403 }));
    await settle();
    assert.equal(s.errors.length, 1);
    assert.equal(s.errors[0]?.retryInMs, 500);
    assert.equal(s.watches.length, 2, 'waits before retrying');
    s.clock.advance(499);
    await settle();
    assert.equal(s.watches.length, 2);
    s.clock.advance(1);
    await settle();
    assert.equal(s.watches.length, 3);
    assert.equal(s.lastWatch().resourceVersion, '4');
    assert.equal(s.listCalls(), 1);
    assert.deepEqual(s.events, ['add p1@3'], 'the store was kept');
    s.reflector.stop();
  });

  it('on 410 Gone lists again: what disappeared is deleted, what changed updated, and the watch starts from the new list', async () => {
    const s = scriptedServer([
      { items: [pod('p1', '1'), pod('p2', '2'), pod('p3', '3')], resourceVersion: '3' },
      { items: [pod('p1', '1'), pod('p2', '7'), pod('p4', '8')], resourceVersion: '9' },
      { items: [pod('p1', '1')], resourceVersion: '20' },
    ]);
    await s.reflector.start();
    // As an ERROR event followed by the server's close ...
    s.lastWatch().send('ERROR', { apiVersion: 'v1', kind: 'Status', metadata: {}, code: 410 } as KubeObject);
    s.lastWatch().end();
    await settle();
    assert.equal(s.listCalls(), 2);
    assert.equal(s.lastWatch().resourceVersion, '9');
    assert.deepEqual(s.events.slice(3), ['delete p3@3', 'update p2@7', 'add p4@8']);
    // ... and as the watch request's own 410.
    s.lastWatch().end(Object.assign(new Error('Gone'), { statusCode: 410 }));
    await settle();
    assert.equal(s.listCalls(), 3);
    assert.equal(s.lastWatch().resourceVersion, '20');
    assert.deepEqual(s.events.slice(6), ['delete p2@7', 'delete p4@8']);
    assert.deepEqual(s.errors, []);
    s.reflector.stop();
  });

  it('a failed list is reported and retried; start() resolves only once synced', async () => {
    const s = scriptedServer([new Error('connection refused'), { items: [pod('p1', '1')], resourceVersion: '2' }]);
    let synced = false;
    const started = s.reflector.start().then(() => (synced = true));
    await settle();
    assert.equal(synced, false);
    assert.equal(s.reflector.hasSynced, false);
    assert.match(String(s.errors[0]?.err), /connection refused/);
    s.clock.advance(500);
    await started;
    assert.equal(s.reflector.get('p1', 'a')?.metadata.resourceVersion, '1');
    s.reflector.stop();
  });

  it('stop() aborts the running watch and starts no other', async () => {
    const s = scriptedServer([{ items: [], resourceVersion: '1' }]);
    await s.reflector.start();
    const running = s.lastWatch();
    s.reflector.stop();
    assert.ok(running.signal.aborted);
    running.end();
    await settle();
    s.clock.advance(60_000);
    await settle();
    assert.equal(s.watches.length, 1);
    assert.deepEqual(s.errors, []);
  });

  it('stopped while listing, it starts no watch', async () => {
    let releaseList: (list: ListResult) => void = () => {};
    let watches = 0;
    const reflector = new Reflector({
      list: () => new Promise((resolve) => (releaseList = resolve)),
      watch: () => {
        watches++;
        return Promise.resolve();
      },
      onError: () => {},
      clock: new FakeClock(),
    });
    const started = reflector.start();
    await settle();
    reflector.stop();
    await started;
    releaseList({ items: [pod('p1', '1')], resourceVersion: '2' });
    await settle();
    assert.equal(watches, 0);
    assert.equal(reflector.hasSynced, false);
  });
});
