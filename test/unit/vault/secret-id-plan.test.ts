import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { planSecretIds, type LiveSecretId, type StoredCredentials } from '../../../src/vault/secret-id-plan.ts';

const now = new Date('2026-01-10T00:00:00Z');
const hours = (h: number) => new Date(now.getTime() + h * 3600_000);
const renewBeforeSeconds = 48 * 3600;

function stored(partial: Partial<StoredCredentials>): StoredCredentials {
  return { roleId: 'role-1', hasSecretId: true, accessor: 'A', expiresAt: hours(100), previousAccessor: undefined, ...partial };
}

test('no Secret yet: issue the first secret-id, destroy strays', () => {
  const plan = planSecretIds({ now, renewBeforeSeconds, roleId: 'role-1', stored: undefined, listed: [{ accessor: 'X', expiresAt: undefined }], kesOnCurrent: true });
  assert.equal(plan.issue, true);
  assert.match(plan.issueWhy ?? '', /does not exist/);
  assert.deepEqual(plan.destroy.map((d) => d.accessor), ['X']);
  assert.equal(plan.previousAccessor, undefined);
});

test('current secret-id far from expiry: nothing to do, renewAt is expiry minus renewBefore', () => {
  const plan = planSecretIds({ now, renewBeforeSeconds, roleId: 'role-1', stored: stored({}), listed: [{ accessor: 'A', expiresAt: hours(100) }], kesOnCurrent: true });
  assert.deepEqual(plan.destroy, []);
  assert.equal(plan.issue, false);
  assert.equal(plan.waiting, undefined);
  assert.equal(plan.renewAt?.toISOString(), hours(52).toISOString());
});

test('within renewBefore: issue a new one and keep the current as previous', () => {
  const plan = planSecretIds({ now, renewBeforeSeconds, roleId: 'role-1', stored: stored({ expiresAt: hours(10) }), listed: [{ accessor: 'A', expiresAt: hours(10) }], kesOnCurrent: true });
  assert.equal(plan.issue, true);
  assert.equal(plan.previousAccessor, 'A');
  assert.deepEqual(plan.destroy, []);
});

test('previous is destroyed once KES runs on the current one, not before', () => {
  const base = { now, renewBeforeSeconds, roleId: 'role-1', stored: stored({ previousAccessor: 'P' }), listed: [{ accessor: 'A', expiresAt: hours(100) }, { accessor: 'P', expiresAt: hours(5) }] };
  const waiting = planSecretIds({ ...base, kesOnCurrent: false });
  assert.deepEqual(waiting.destroy, []);
  assert.equal(waiting.previousAccessor, 'P');
  const rolled = planSecretIds({ ...base, kesOnCurrent: true });
  assert.deepEqual(rolled.destroy, [{ accessor: 'P', why: 'KES runs on the current secret-id' }]);
  assert.equal(rolled.previousAccessor, undefined);
});

test('rotation due while KES still uses the previous: wait instead of issuing a third', () => {
  const plan = planSecretIds({
    now, renewBeforeSeconds, roleId: 'role-1', stored: stored({ expiresAt: hours(1), previousAccessor: 'P' }),
    listed: [{ accessor: 'A', expiresAt: hours(1) }, { accessor: 'P', expiresAt: hours(0.5) }], kesOnCurrent: false,
  });
  assert.equal(plan.issue, false);
  assert.match(plan.waiting ?? '', /has not rolled/);
});

test('current destroyed outside the operator: issue again, keep a live previous', () => {
  const plan = planSecretIds({ now, renewBeforeSeconds, roleId: 'role-1', stored: stored({ previousAccessor: 'P' }), listed: [{ accessor: 'P', expiresAt: hours(3) }], kesOnCurrent: false });
  assert.equal(plan.issue, true);
  assert.match(plan.issueWhy ?? '', /expired or was destroyed/);
  assert.equal(plan.previousAccessor, 'P');
});

test('expired current (by recorded expiry) and a changed role-id both force a new secret-id', () => {
  const expired = planSecretIds({ now, renewBeforeSeconds, roleId: 'role-1', stored: stored({ expiresAt: hours(-1) }), listed: [{ accessor: 'A', expiresAt: hours(-1) }], kesOnCurrent: true });
  assert.equal(expired.issue, true);
  assert.deepEqual(expired.destroy, []); // an expired entry is not live; Vault tidies it
  const newRole = planSecretIds({ now, renewBeforeSeconds, roleId: 'role-2', stored: stored({}), listed: [{ accessor: 'A', expiresAt: hours(100) }], kesOnCurrent: true });
  assert.equal(newRole.issue, true);
  assert.deepEqual(newRole.destroy.map((d) => d.accessor), ['A']);
});

// A model of Vault's secret-ids on one role driven by random time steps, KES rollouts and
// outside interference; after every operator pass at most two secret-ids are live.
test('property: never more than two live secret-ids, and the Secret always ends with a live one', () => {
  const ttlHours = 24;
  const renewBefore = 6 * 3600;
  const step = fc.record({
    advanceHours: fc.integer({ min: 0, max: 20 }),
    kesRolls: fc.boolean(),
    strayIssued: fc.boolean(),
    currentDestroyed: fc.boolean(),
  });
  fc.assert(
    fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
      let clock = now.getTime();
      let counter = 0;
      const vault = new Map<string, number>(); // accessor -> expiry ms
      let secret: StoredCredentials | undefined;
      let kesChecksum: string | undefined; // the accessor KES runs on
      for (const s of steps) {
        clock += s.advanceHours * 3600_000;
        for (const [a, exp] of vault) if (exp <= clock) vault.delete(a);
        if (s.strayIssued && vault.size < 2) vault.set(`stray${counter++}`, clock + ttlHours * 3600_000);
        if (s.currentDestroyed && secret?.accessor) vault.delete(secret.accessor);
        if (s.kesRolls) kesChecksum = secret?.accessor;
        const listed: LiveSecretId[] = [...vault].map(([accessor, exp]) => ({
          accessor,
          expiresAt: accessor === secret?.accessor ? secret.expiresAt : new Date(exp),
        }));
        const plan = planSecretIds({
          now: new Date(clock), renewBeforeSeconds: renewBefore, roleId: 'r', stored: secret, listed,
          kesOnCurrent: kesChecksum === secret?.accessor,
        });
        for (const d of plan.destroy) vault.delete(d.accessor);
        if (plan.issue) {
          assert.ok(vault.size <= 1, `issuing with ${vault.size} live would make a third`);
          const accessor = `id${counter++}`;
          vault.set(accessor, clock + ttlHours * 3600_000);
          secret = { roleId: 'r', hasSecretId: true, accessor, expiresAt: new Date(clock + ttlHours * 3600_000), previousAccessor: plan.previousAccessor };
        } else if (secret) {
          secret = { ...secret, previousAccessor: plan.previousAccessor };
        }
        const live = [...vault.values()].filter((exp) => exp > clock).length;
        assert.ok(live <= 2, `${live} live secret-ids`);
        assert.ok(secret?.accessor && vault.has(secret.accessor), 'the Secret holds a live secret-id');
      }
    }),
    { numRuns: 300 },
  );
});
