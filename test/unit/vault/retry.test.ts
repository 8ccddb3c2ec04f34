import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VaultRequestError } from '../../../src/vault/errors.ts';
import { backoffDelayMs, withRetry } from '../../../src/vault/retry.ts';

const policy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 300 };

test('backoff doubles up to the cap, with jitter in the upper half', () => {
  assert.equal(backoffDelayMs(1, policy, 0), 50);
  assert.equal(backoffDelayMs(1, policy, 0.999), 99);
  assert.equal(backoffDelayMs(2, policy, 0), 100);
  assert.equal(backoffDelayMs(5, policy, 0), 150);
  assert.ok(backoffDelayMs(10, policy, 0.999) < 300);
});

test('retries retryable failures until attempts run out, sleeping between them', async () => {
  const sleeps: number[] = [];
  let calls = 0;
  await assert.rejects(
    withRetry(async () => {
      calls++;
      throw new VaultRequestError('Unreachable', 'op', 'op: refused');
    }, policy, { sleep: async (ms) => sleeps.push(ms), random: () => 0 }),
    { reason: 'Unreachable' },
  );
  assert.equal(calls, 4);
  assert.deepEqual(sleeps, [50, 100, 150]);
});

test('a 5xx that recovers succeeds on a later attempt', async () => {
  let calls = 0;
  const value = await withRetry(async () => {
    if (++calls < 3) throw new VaultRequestError('ServerError', 'op', 'op: 500', 500);
    return 'ok';
  }, policy, { sleep: async () => undefined });
  assert.equal(value, 'ok');
  assert.equal(calls, 3);
});

test('4xx and sealed failures are not retried', async () => {
  for (const reason of ['PermissionDenied', 'AuthFailed', 'InvalidRequest', 'NotFound', 'Sealed'] as const) {
    let calls = 0;
    await assert.rejects(withRetry(async () => {
      calls++;
      throw new VaultRequestError(reason, 'op', 'op');
    }, policy, { sleep: async () => undefined }));
    assert.equal(calls, 1, reason);
  }
});
