import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  acceptanceToken,
  acceptedTokens,
  buildKeyCanarySecret,
  canaryContext,
  KEY_RECORDS_ANNOTATION,
  readLedger,
  statusRecords,
} from '../../../src/kes/key-records.ts';

const ref = { name: 'tenant-a', namespace: 'storage' };

describe('key records', () => {
  it('round-trips records and canaries through the canary Secret', () => {
    const ledger = {
      records: new Map([
        ['k2', { name: 'k2', createdAt: '2026-02-01T00:00:00.000Z' }],
        ['k1', { name: 'k1', createdAt: '2026-01-01T00:00:00.000Z' }],
      ]),
      canaries: new Map([['k1', Buffer.from('ciphertext-1')]]),
    };
    const secret = buildKeyCanarySecret(ref, ledger);
    assert.equal(secret.metadata?.name, 'tenant-a-kes-key-canaries');
    assert.deepEqual(Object.keys(secret.data ?? {}), ['k1'], 'only keys that have a canary');
    const back = readLedger(secret, undefined);
    assert.deepEqual(statusRecords(back), statusRecords(ledger));
    assert.deepEqual(back.canaries.get('k1'), Buffer.from('ciphertext-1'));
    assert.deepEqual(statusRecords(ledger).map((r) => r.name), ['k1', 'k2']);
  });

  it('keeps a key known from status when the Secret is gone, so it is never re-created', () => {
    const ledger = readLedger(undefined, [{ name: 'k1', createdAt: '2026-01-01T00:00:00Z' }]);
    assert.deepEqual([...ledger.records.keys()], ['k1']);
    assert.equal(ledger.canaries.size, 0);
  });

  it('drops what a tenant could have written into the Secret: bad names, bad dates, unrecorded or huge canaries', () => {
    const secret = {
      metadata: {
        annotations: {
          [KEY_RECORDS_ANNOTATION]: JSON.stringify([
            { name: '../other', createdAt: '2026-01-01T00:00:00Z' },
            { name: 'ok', createdAt: 'yesterday' },
            { name: 'good', createdAt: '2026-01-01T00:00:00Z' },
            'junk',
            null,
          ]),
        },
      },
      data: { good: Buffer.alloc(5000).toString('base64'), stray: Buffer.from('x').toString('base64') },
    };
    const ledger = readLedger(secret, { not: 'a list' });
    assert.deepEqual([...ledger.records.keys()], ['good']);
    assert.equal(ledger.canaries.size, 0);
    assert.equal(readLedger({ metadata: { annotations: { [KEY_RECORDS_ANNOTATION]: '{not json' } } }, undefined).records.size, 0);
  });

  it('accepts a new key only for the exact generation named', () => {
    const record = { name: 'k1', createdAt: '2026-01-01T00:00:00.000Z' };
    assert.equal(acceptanceToken(record), 'k1@2026-01-01T00:00:00.000Z');
    const tokens = acceptedTokens({ 'kmsstack.io/accept-new-key': ' k1@2026-01-01T00:00:00.000Z , k2@x,' });
    assert.ok(tokens.has(acceptanceToken(record)));
    assert.ok(!tokens.has(acceptanceToken({ ...record, createdAt: '2026-03-01T00:00:00.000Z' })));
    assert.equal(acceptedTokens(undefined).size, 0);
  });

  it('binds a canary to its deployment and key', () => {
    assert.notDeepEqual(canaryContext(ref, 'k1'), canaryContext(ref, 'k2'));
    assert.notDeepEqual(canaryContext(ref, 'k1'), canaryContext({ ...ref, namespace: 'other' }, 'k1'));
  });
});
