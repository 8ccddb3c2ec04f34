import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatTime, isValidReason, readyFrom, setCondition, type Condition } from '../../../../src/controllers/kmsdeployment/conditions.ts';

const t0 = new Date('2025-03-01T10:00:00.123Z');
const t1 = new Date('2025-03-01T11:30:00.999Z');

type Reported = Pick<Condition, 'status' | 'reason' | 'message'>;

/** KESAvailable as `first` at t0 (generation 1), then set again as `then` at t1 with `generation`. */
function kesAvailableTwice(first: Reported, then: Reported, generation = 1): Condition[] {
  return setCondition(setCondition([], { type: 'KESAvailable', ...first }, 1, t0), { type: 'KESAvailable', ...then }, generation, t1);
}

describe('conditions', () => {
  it('stamps a new condition with generation and a second-precision transition time', () => {
    const conditions = setCondition([], { type: 'SpecValid', status: 'True', reason: 'Valid', message: 'ok' }, 3, t0);
    assert.deepEqual(conditions, [{ type: 'SpecValid', status: 'True', reason: 'Valid', message: 'ok', observedGeneration: 3, lastTransitionTime: '2025-03-01T10:00:00Z' }]);
  });

  it('keeps lastTransitionTime when the status stays, even if reason, message and generation change', () => {
    const second = kesAvailableTwice({ status: 'False', reason: 'Waiting', message: '0/2 ready' }, { status: 'False', reason: 'Progressing', message: '1/2 ready' }, 2);
    assert.equal(second[0]?.lastTransitionTime, '2025-03-01T10:00:00Z');
    assert.equal(second[0]?.reason, 'Progressing');
    assert.equal(second[0]?.message, '1/2 ready');
    assert.equal(second[0]?.observedGeneration, 2);
  });

  it('moves lastTransitionTime when the status flips', () => {
    const flipped = kesAvailableTwice({ status: 'False', reason: 'Waiting', message: '' }, { status: 'True', reason: 'Available', message: '' });
    assert.equal(flipped[0]?.lastTransitionTime, '2025-03-01T11:30:00Z');
  });

  it('keeps the order of existing conditions and appends new types', () => {
    let conditions: Condition[] = [];
    for (const type of ['B', 'A', 'C']) conditions = setCondition(conditions, { type, status: 'True', reason: 'R', message: '' }, 1, t0);
    conditions = setCondition(conditions, { type: 'A', status: 'False', reason: 'R', message: '' }, 1, t1);
    assert.deepEqual(conditions.map((c) => c.type), ['B', 'A', 'C']);
  });

  it('derives Ready from the first condition that is not True', () => {
    let conditions: Condition[] = [];
    conditions = setCondition(conditions, { type: 'SpecValid', status: 'True', reason: 'Valid', message: '' }, 1, t0);
    conditions = setCondition(conditions, { type: 'CertificatesReady', status: 'False', reason: 'NotImplemented', message: 'PKI is not implemented yet' }, 1, t0);
    const ready = readyFrom(conditions, ['SpecValid', 'CertificatesReady']);
    assert.equal(ready.status, 'False');
    assert.equal(ready.reason, 'CertificatesReadyFalse');
    assert.match(ready.message, /PKI is not implemented yet/);
    assert.equal(readyFrom(conditions, ['SpecValid']).status, 'True');
    assert.equal(readyFrom([], ['SpecValid']).status, 'Unknown');
  });

  it('formats times as the API server does and checks reasons', () => {
    assert.equal(formatTime(new Date('2025-01-02T03:04:05.678Z')), '2025-01-02T03:04:05Z');
    assert.ok(isValidReason('NotImplemented'));
    assert.ok(!isValidReason('not valid'));
    assert.ok(!isValidReason(''));
  });
});
