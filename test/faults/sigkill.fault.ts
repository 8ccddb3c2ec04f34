// Fault: the operator process is SIGKILLed at random points while it reconciles (a crash, an OOM
// kill, a node loss). Each trial restarts it, waits until it converged, checks the invariants, then
// makes a change (create, delete, spec update, a deleted AppRole or CA Secret) and kills the
// process a random 0-400 ms after the change or after the first reconcile its log shows then, i.e.
// before, during or after the reconcile that change starts; some trials kill it during start-up
// instead. The plan comes from the run's seed.
// Invariants, after every restart: it converges; no duplicated objects (Kubernetes children exactly
// the expected ones, Vault policies and roles exactly those of the live deployments); never more
// than two live secret-ids per deployment (polled all along; t0 rotates 20 s after each issue and,
// as KES never rolls here, keeps two); the marker "key" written under each deployment's prefix, as
// KES would, is never lost, also across deletion and re-creation.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { waitFor } from '../env/process.ts';
import { pkiSecretNames } from '../../src/pki/names.ts';
import { resources } from '../../src/runtime/kube/resources.ts';
import { appRoleSecretName, vaultObjectName } from '../../src/vault/names.ts';
import { readMarker, readMarkerAsKes, SecretIdWatcher, waitConverged, writeMarker, type Tracked } from './checks.ts';
import { FAST_LEASE, type OperatorProcess } from './operator.ts';
import { recordResult } from './results.ts';
import { draw, faultSeed, trialCount } from './seed.ts';
import { collectGarbage, type FaultStack, patchSpec, startFaultStack, vaultDeployment } from './stack.ts';

const NS = 'crash';
const POOL = ['t0', 't1', 't2'];
const CONVERGE_TIMEOUT_MS = 60_000;
/** t0 rotates its secret-id 20 s after each issue; KES never rolls here, so it keeps two live. */
const ROTATING = 't0';
const ROTATION = { secretIDTTL: '150s', secretIDRenewBefore: '130s' };

const actions = ['create', 'delete', 'update', 'drop-approle-secret', 'drop-ca', 'startup'] as const;
type Action = (typeof actions)[number];
const trialArbitrary = fc.record({
  action: fc.constantFrom(...actions),
  target: fc.integer({ min: 0, max: POOL.length - 1 }),
  // Half the kills count from the change, half from the first reconcile the log shows after it.
  anchor: fc.constantFrom('change', 'reconcile-start'),
  killAfterMs: fc.noBias(fc.integer({ min: 0, max: 400 })),
  tokenTTL: fc.constantFrom('5m', '10m', '20m'),
  replicas: fc.integer({ min: 1, max: 3 }),
});
type Trial = ReturnType<typeof trialArbitrary.generate>['value'];

describe('fault: operator SIGKILLed during reconciles', { timeout: 900_000 }, () => {
  let stack: FaultStack;
  const live = new Map<string, Tracked>();
  const deleted = new Map<string, Tracked>();
  const markers = new Map<string, string>();
  /** Time to converge of each restart that followed a kill. */
  const convergeMs: number[] = [];
  let kills = 0;
  let killsConverged = 0;
  const killPoints: string[] = [];
  let killsMidReconcile = 0;
  const lost: string[] = [];
  let watcher: SecretIdWatcher | undefined;
  let operator: OperatorProcess | undefined;
  const trials = trialCount(20);
  const plan = draw('sigkill', trialArbitrary, trials);

  before(async () => {
    stack = await startFaultStack();
    await stack.prepareNamespace(NS);
    for (const name of POOL.slice(0, 2)) {
      await stack.kube.create(vaultDeployment(stack, NS, name, name === ROTATING ? ROTATION : {}));
      live.set(name, { namespace: NS, name });
    }
    watcher = new SecretIdWatcher(stack, () => POOL.map((name) => ({ namespace: NS, name })));
  });

  after(async () => {
    await watcher?.stop();
    recordResult({
      fault: `operator SIGKILLed at random points during reconciles (seed ${faultSeed()})`,
      trials: kills, converged: killsConverged, convergeMs,
      convergedFrom: 'the restart; includes taking over the dead leader\'s 3 s lease',
      lost: lost.length ? lost.join('; ') : 'nothing',
      notes: `${killsMidReconcile} of ${kills} kills hit a reconcile in flight (per the debug log); max live secret-ids per deployment: ${watcher?.highest ?? '?'}; ` +
        `duplicated objects: ${lost.some((l) => l.includes('duplicate')) ? 'yes' : 'none'}; kills after: ${[...new Set(killPoints)].join(', ')}`,
    });
    await stack?.stop();
  });

  /** Runs one restart: converge, check everything, then (unless it is the last) change something and kill. */
  async function restartAndCheck(label: string): Promise<void> {
    operator = stack.startOperator({ leaseNamespace: NS, leaseName: 'crash', lease: FAST_LEASE, logLevel: 'debug' });
    const restartedAt = Date.now();
    // Converged counts only once this process leads: state the killed one finished is not its work.
    await operator.waitUntilReconciling();
    await waitConverged(stack, [...live.values()], [...deleted.values()], CONVERGE_TIMEOUT_MS, () => operator?.assertAlive(label));
    if (kills > killsConverged) convergeMs.push(Date.now() - restartedAt);
    killsConverged = kills;
    await collectGarbage(stack, NS);
    for (const tracked of live.values()) {
      if (!markers.has(tracked.name)) {
        const value = `marker-${tracked.name}-${faultSeed()}`;
        await writeMarker(stack, tracked, value);
        markers.set(tracked.name, value);
      }
    }
    for (const [name, value] of markers) {
      const found = await readMarker(stack, { namespace: NS, name });
      if (found !== value) lost.push(`${label}: marker of ${name} is ${found === undefined ? 'gone' : 'changed'}`);
    }
    await checkNoDuplicates(label);
  }

  async function checkNoDuplicates(label: string): Promise<void> {
    const wanted = [...live.keys()].map((name) => vaultObjectName(NS, name)).sort();
    const listed = async (path: string) => {
      const res = await stack.vault.request('GET', `${path}?list=true`);
      return (((res.body?.['data'] as { keys?: string[] } | undefined)?.keys) ?? []).filter((k) => k.startsWith(`kmsstack_default_${NS}_`)).sort();
    };
    const policies = await listed('sys/policies/acl');
    const roles = await listed('auth/approle/role');
    if (JSON.stringify(policies) !== JSON.stringify(wanted)) lost.push(`${label}: duplicate or stale Vault policies ${policies.join(',')} (want ${wanted.join(',')})`);
    if (JSON.stringify(roles) !== JSON.stringify(wanted)) lost.push(`${label}: duplicate or stale Vault roles ${roles.join(',')} (want ${wanted.join(',')})`);
  }

  /** Applies the trial's change (adapted to the current state: a missing target is created). */
  async function disturb(trial: Trial): Promise<string> {
    const name = POOL[trial.target] as string;
    let action: Action = trial.action;
    if (!live.has(name) && action !== 'startup') action = 'create';
    if (live.has(name) && action === 'create') action = 'update';
    switch (action) {
      case 'create':
        await stack.kube.create(vaultDeployment(stack, NS, name, { tokenTTL: trial.tokenTTL, kesReplicas: trial.replicas, ...(name === ROTATING ? ROTATION : {}) }));
        live.set(name, { namespace: NS, name });
        deleted.delete(name);
        break;
      case 'delete':
        await stack.kube.delete(resources.KMSDeployment, NS, name);
        live.delete(name);
        deleted.set(name, { namespace: NS, name });
        break;
      case 'update':
        await patchSpec(stack, NS, name, { vault: { appRole: { tokenTTL: trial.tokenTTL } }, kes: { replicas: trial.replicas } });
        break;
      case 'drop-approle-secret':
        await stack.kube.delete(resources.Secret, NS, appRoleSecretName(name));
        break;
      case 'drop-ca':
        await stack.kube.delete(resources.Secret, NS, pkiSecretNames(name).ca);
        break;
      case 'startup':
        return 'start-up';
    }
    return `${action} ${name}`;
  }

  const reconcileStarts = () => (operator?.output().split('"msg":"reconcile started"').length ?? 1) - 1;

  it(`converges after each of ${trials} kills, with no duplicate, at most two secret-ids, no key lost`, async () => {
    console.log(`sigkill plan (seed ${faultSeed()}): ${plan.map((t) => `${t.action}:${POOL[t.target]}@${t.anchor}+${t.killAfterMs}ms`).join(' ')}`);
    for (const [index, trial] of plan.entries()) {
      const label = `trial ${index + 1}/${trials}`;
      if (trial.action === 'startup') {
        // Kill the fresh process somewhere in start-up: lease, cache sync, first reconciles.
        operator = stack.startOperator({ leaseNamespace: NS, leaseName: 'crash', lease: FAST_LEASE, logLevel: 'debug' });
        await sleep(trial.killAfterMs * 12);
        operator.assertAlive(label);
        killPoints.push('start-up');
        if (operator.inFlightReconciles().length > 0) killsMidReconcile++;
        await operator.kill();
        kills++;
        continue;
      }
      await restartAndCheck(label);
      const startedBefore = reconcileStarts();
      const what = await disturb(trial);
      if (trial.anchor === 'reconcile-start') {
        await waitFor('a reconcile to start', async () => (reconcileStarts() > startedBefore ? true : undefined), 5_000, 10).catch(() => undefined);
      }
      await sleep(trial.killAfterMs);
      operator?.assertAlive(label);
      killPoints.push(what.split(' ')[0] as string);
      if (operator?.inFlightReconciles().length) killsMidReconcile++;
      await operator?.kill();
      kills++;
    }
    await restartAndCheck('final restart');
    for (const tracked of live.values()) {
      assert.equal(await readMarkerAsKes(stack, tracked), markers.get(tracked.name), `KES of ${tracked.name} reads its marker with the current credentials`);
    }
    await operator?.stop();
    assert.deepEqual(lost, [], 'nothing lost or duplicated');
    assert.ok((watcher?.highest ?? 99) <= 2, `at most two live secret-ids per deployment (saw ${watcher?.highest})`);
    assert.equal(kills, trials);
    assert.equal(killsConverged, kills, 'the operator converged after every kill');
  });
});
