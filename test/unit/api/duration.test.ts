import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { durationMs, formatDuration, parseDuration } from '../../../src/api/index.ts';

test('parses the durations the API accepts', () => {
  assert.equal(parseDuration('20s'), 20_000);
  assert.equal(parseDuration('5m'), 300_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('2160h'), 2160 * 3_600_000);
  assert.equal(parseDuration('1500ms'), 1500);
  assert.equal(parseDuration('0s'), 0);
  for (const bad of ['', '5', '1d', '1.5h', '-5m', ' 5m', '5m ', 'h']) assert.equal(parseDuration(bad), undefined, bad);
  assert.throws(() => durationMs('1d'), /not a duration: "1d"/);
});

test('formatDuration and parseDuration round-trip whole milliseconds', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 10 * 365 * 24 * 3_600_000 }), (ms) => {
      assert.equal(parseDuration(formatDuration(ms)), ms);
    }),
  );
  assert.equal(formatDuration(5_400_000), '1h30m');
});
