// The default data path (the real steps as wired in reconcile.ts) on the runtime: every condition is
// reported in order, placeholders say NotImplemented, and once the cluster settled a reconcile writes nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Manager } from '../../../src/runtime/manager.ts';
import type { KubeClient } from '../../../src/runtime/kube/client.ts';
import { getKMSDeployment, kmsDeployment, startOperatorIn, waitFor, writeCount, type ControlPlane, type RunningOperator } from './harness.ts';

const NS = 'dp';

describe('default data path on the runtime (real kube-apiserver)', { timeout: 300_000 }, () => {
  let plane: ControlPlane;
  let admin: KubeClient;
  let manager: Manager;

  let running: RunningOperator | undefined;

  before(async () => {
    running = await startOperatorIn(NS);
    ({ plane, admin, manager } = running);
  });

  after(() => running?.stop());

  it('reports every condition of a StaticKey deployment in data-path order', async () => {
    await admin.create(kmsDeployment(NS, 'dev'));
    const obj = await waitFor('status', async () => {
      const current = await getKMSDeployment(admin, NS, 'dev');
      return current?.status?.conditions?.length === 8 ? current : undefined;
    });
    const conditions = obj.status?.conditions ?? [];
    assert.deepEqual(conditions.map((c) => c.type), ['SpecValid', 'CertificatesReady', 'VaultConfigured', 'KESAvailable', 'KeysReady', 'MinIOAvailable', 'EncryptionVerified', 'Ready']);
    assert.equal(conditions.find((c) => c.type === 'CertificatesReady')?.reason, 'Issued'); // no KES in StaticKey mode, but MinIO's S3 certificate
    assert.equal(conditions.find((c) => c.type === 'Ready')?.status, 'False');
    if (process.env.KMSSTACK_TEST_LOGS) console.log(conditions.map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`).join('\n'));
  });

  it('settles: an unchanged object is reconciled without writes', async () => {
    let previous = -1;
    await waitFor('writes settle', async () => {
      const now = await writeCount(plane);
      const settled = now === previous;
      previous = now;
      if (!settled) await sleep(1000);
      return settled ? true : undefined;
    }, 60_000, 0);
    const before = await writeCount(plane);
    for (let i = 0; i < 3; i++) {
      manager.queue.add(`${NS}/dev`);
      await sleep(700);
    }
    assert.equal(await writeCount(plane), before, 'the default steps write on a reconcile where nothing changed');
  });
});
