// Faults of Vault, with a persistent Vault (file storage, TLS, init + unseal) that keeps its data:
// - Vault stopped for 60 s (the figure), then started but sealed, then
//   restarted and unsealed: VaultConfigured says Unreachable, then Sealed, each within one resync;
//   the operator never crashes; it converges within 30 s of Vault's return; nothing is lost.
// - a KMSDeployment deleted while Vault is down: the deletion waits (the object stays, a
//   CleanupFailed event names the skip annotation), and kmsstack.io/skip-vault-cleanup releases it;
//   the Vault objects it leaves behind are the documented ones, and the keys are still there.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from '../../src/api/duration.ts';
import { resources, type KubeObject } from '../../src/runtime/kube/resources.ts';
import { SKIP_VAULT_CLEANUP_ANNOTATION, vaultObjectName } from '../../src/vault/names.ts';
import { waitFor } from '../env/process.ts';
import { conditionOf, readMarker, SecretIdWatcher, waitConverged, writeMarker, type Tracked } from './checks.ts';
import type { OperatorProcess } from './operator.ts';
import { recordResult } from './results.ts';
import { annotate, getDeployment, startFaultStack, vaultDeployment } from './stack.ts';
import { suiteFixture } from '../support/suite.ts';

const NS = 'vault-faults';
/**
 * The operator's resync period in this case; "within one resync" is measured against it. 20 s by
 * default; $KMSSTACK_FAULT_VAULT_RESYNC (e.g. 10m, the operator's default) shows how recovery then
 * depends on the Vault step's retry backoff instead (docs/reliability.md).
 */
const RESYNC_MS = parseDuration(process.env.KMSSTACK_FAULT_VAULT_RESYNC ?? '20s') ?? 20_000;
const RETURN_LIMIT_MS = 30_000;

/** How long Vault stays stopped; KMSSTACK_FAULT_VAULT_OUTAGE shortens it for a quick local run. */
const OUTAGE_MS = parseDuration(process.env.KMSSTACK_FAULT_VAULT_OUTAGE ?? '60s') ?? 60_000;

describe('fault: Vault stopped, sealed, deleted under', { timeout: 600_000 }, () => {
  let operator: OperatorProcess;
  let watcher: SecretIdWatcher;
  const outage: Tracked = { namespace: NS, name: 'outage' };
  const orphan: Tracked = { namespace: NS, name: 'orphan' };
  const stack = suiteFixture(() => startFaultStack({ persistentVault: true, namespace: NS }), async () => {
    await watcher?.stop();
  });

  before(async () => {
    for (const t of [outage, orphan]) await stack.kube.create(vaultDeployment(stack, NS, t.name));
    operator = await stack.startReconcilingOperator({ leaseNamespace: NS, leaseName: 'vault-faults', resyncPeriod: `${RESYNC_MS / 1000}s` });
    await waitConverged(stack, [outage, orphan]);
    for (const t of [outage, orphan]) await writeMarker(stack, t, `marker-${t.name}`);
    watcher = new SecretIdWatcher(stack, () => [outage, orphan]);
  });

  async function waitForReason(t: Tracked, reason: string, since: number, limitMs: number): Promise<number> {
    await waitFor(`VaultConfigured reason ${reason}`, async () => {
      operator.assertAlive(`waiting for ${reason}`);
      const c = conditionOf(await getDeployment(stack, t.namespace, t.name), 'VaultConfigured');
      return c?.status === 'False' && c.reason === reason ? true : undefined;
    }, limitMs, 100);
    return Date.now() - since;
  }

  it('reports Unreachable then Sealed within one resync, never crashes, converges within 30 s of Vault\'s return', async () => {
    const outageMs = OUTAGE_MS;
    const figures: { unreachable?: number; sealed?: number; back?: number } = {};
    let lost = 'not checked (the case failed before)';
    try {
      const stoppedAt = Date.now();
      await stack.vault.halt();
      figures.unreachable = await waitForReason(outage, 'Unreachable', stoppedAt, RESYNC_MS + 5_000);
      await operator.stayAlive(Math.max(0, outageMs - (Date.now() - stoppedAt)), 'while Vault is stopped');

      await stack.vault.start(); // unseals (persistent mode) ...
      await stack.vault.seal(); //  ... and is sealed again at once
      const sealedAt = Date.now();
      figures.sealed = await waitForReason(outage, 'Sealed', sealedAt, RESYNC_MS + 5_000);
      await operator.stayAlive(5_000, 'while Vault is sealed');

      await stack.vault.restart(); // stopped, started and unsealed
      const backAt = Date.now();
      await waitConverged(stack, [outage, orphan], [], RETURN_LIMIT_MS + 30_000, () => operator.assertAlive('after Vault returned'));
      figures.back = Date.now() - backAt;
      const markers = [await readMarker(stack, outage), await readMarker(stack, orphan)];
      lost = markers[0] === 'marker-outage' && markers[1] === 'marker-orphan' ? 'nothing' : `markers now ${JSON.stringify(markers)}`;
    } finally {
      recordResult({
        fault: `Vault stopped ${(outageMs / 1000).toFixed(0)} s, then sealed, then restarted and unsealed`,
        trials: 1, converged: figures.back !== undefined && figures.back <= RETURN_LIMIT_MS ? 1 : 0,
        convergeMs: figures.back === undefined ? [] : [figures.back], convergedFrom: 'Vault unsealed',
        lost,
        notes: `VaultConfigured=False/Unreachable ${fmt(figures.unreachable)} after the stop, Sealed ${fmt(figures.sealed)} after sealing ` +
          `(resync ${RESYNC_MS / 1000} s); operator process never exited; max live secret-ids ${watcher.highest}`,
      });
    }
    assert.ok((figures.back ?? Infinity) <= RETURN_LIMIT_MS, `converged ${figures.back} ms after Vault returned`);
    assert.equal(lost, 'nothing');
    assert.ok(watcher.highest <= 2, `at most two live secret-ids (saw ${watcher.highest})`);
  });

  it('a KMSDeployment deleted while Vault is down waits, reports, and the skip annotation releases it', async () => {
    const figures: { waited?: number; released?: number } = {};
    let lost = 'not checked (the case failed before)';
    try {
      await stack.vault.halt();
      try {
        const deletedAt = Date.now();
        await stack.kube.delete(resources.KMSDeployment, NS, orphan.name);
        await waitFor('a CleanupFailed event naming the skip annotation', async () => {
          const events = await stack.kube.list(resources.Event, NS);
          return events.items.some((e: KubeObject) => e.reason === 'CleanupFailed' && String(e.note).includes(SKIP_VAULT_CLEANUP_ANNOTATION)) ? true : undefined;
        }, RESYNC_MS, 200);
        await operator.stayAlive(10_000, 'while the deletion waits');
        assert.ok((await getDeployment(stack, NS, orphan.name))?.metadata.deletionTimestamp, 'the KMSDeployment is kept while its Vault cleanup cannot run');
        figures.waited = Date.now() - deletedAt;
        const annotatedAt = Date.now();
        await annotate(stack, NS, orphan.name, { [SKIP_VAULT_CLEANUP_ANNOTATION]: 'true' });
        await waitFor('the KMSDeployment to be released', async () => ((await getDeployment(stack, NS, orphan.name)) ? undefined : true), 30_000, 100);
        figures.released = Date.now() - annotatedAt;
      } finally {
        await stack.vault.start();
      }
      const role = vaultObjectName(NS, orphan.name);
      // A skipped cleanup leaves the role and policy (the documented leftovers) and, with Retain, the keys.
      assert.equal((await stack.vault.request('GET', `auth/approle/role/${role}`)).status, 200, 'the role is left behind, as the event says');
      assert.equal((await stack.vault.request('GET', `sys/policies/acl/${role}`)).status, 200, 'the policy is left behind');
      lost = (await readMarker(stack, orphan)) === 'marker-orphan' ? 'nothing (role and policy left in Vault, as the CleanupSkipped event says)' : 'the marker key';
    } finally {
      recordResult({
        fault: 'KMSDeployment deleted while Vault is down',
        trials: 1, converged: figures.released === undefined ? 0 : 1, convergeMs: figures.released === undefined ? [] : [figures.released],
        convergedFrom: 'the skip annotation',
        lost,
        notes: `kept with deletionTimestamp and a CleanupFailed event for ${fmt(figures.waited)}; released after ${SKIP_VAULT_CLEANUP_ANNOTATION}: "true"`,
      });
    }
    assert.ok(lost.startsWith('nothing'), lost);
    operator.assertAlive();
    await operator.stop();
  });
});

function fmt(ms: number | undefined): string {
  return ms === undefined ? '(not reached)' : `${(ms / 1000).toFixed(1)} s`;
}
