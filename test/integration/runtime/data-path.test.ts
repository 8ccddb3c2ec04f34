// The default data path (the real steps as wired in reconcile.ts) on the runtime: every condition is
// reported in order, placeholders say NotImplemented, and once the cluster settled a reconcile writes nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { suiteFixture } from '../../support/suite.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { autoEncrypting, getKMSDeployment, startOperatorIn, waitFor, writeCount } from './harness.ts';
import { inNamespace, kmsDeployment } from '../../support/kmsdeployment.ts';

const NS = 'dp';

describe('default data path on the runtime (real kube-apiserver)', { timeout: 300_000 }, () => {
  const running = suiteFixture(() => startOperatorIn(NS));

  it('reports every condition of a StaticKey deployment in data-path order', async () => {
    await running.kube.create(kmsDeployment('dev', inNamespace(NS), autoEncrypting));
    const obj = await waitFor('status', async () => {
      const current = await getKMSDeployment(running.kube, NS, 'dev');
      return current?.status?.conditions?.length === 9 ? current : undefined;
    });
    const conditions = obj.status?.conditions ?? [];
    assert.deepEqual(conditions.map((c) => c.type), ['SpecValid', 'CertificatesReady', 'VaultConfigured', 'KESAvailable', 'KeysReady', 'MinIOAvailable', 'EncryptionVerified', 'BucketsReady', 'Ready']);
    assert.equal(conditions.find((c) => c.type === 'CertificatesReady')?.reason, 'Issued'); // no KES in StaticKey mode, but MinIO's S3 certificate
    assert.equal(conditions.find((c) => c.type === 'Ready')?.status, 'False');
    if (process.env.KMSSTACK_TEST_LOGS) console.log(conditions.map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`).join('\n'));
  });

  it('settles: an unchanged object is reconciled without writes', async () => {
    let previous = -1;
    await waitFor('writes settle', async () => {
      const now = await writeCount(running.plane);
      const settled = now === previous;
      previous = now;
      if (!settled) await sleep(1000);
      return settled ? true : undefined;
    }, 60_000, 0);
    const before = await writeCount(running.plane);
    for (let i = 0; i < 3; i++) {
      running.manager.queue.add(`${NS}/dev`);
      await sleep(700);
    }
    assert.equal(await writeCount(running.plane), before, 'the default steps write on a reconcile where nothing changed');
  });
});
