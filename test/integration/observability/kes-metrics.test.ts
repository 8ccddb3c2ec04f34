// The KES side of /metrics with the real KES on a real Vault and the real kube-apiserver: the keys and
// verify steps in the operator's runtime move the KES request histograms, the master-key gauge counts
// status.kes.keys, and the round-trip gauge holds the time of the last successful EncryptionVerified.
// Skipped, with one line, when no kes program is installed (test/env/programs.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { keysStep } from '../../../src/controllers/kmsdeployment/steps/keys.ts';
import { verifyStep } from '../../../src/controllers/kmsdeployment/steps/verify.ts';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../../../src/runtime/cache.ts';
import type { KubeClient } from '../../../src/runtime/kube/client.ts';
import { type KubeObject } from '../../../src/runtime/kube/resources.ts';
import type { Manager } from '../../../src/runtime/manager.ts';
import { startKesOnVault, type KesOnVault } from '../../env/kes-on-vault.ts';
import { missingProgram } from '../../env/programs.ts';
import { tlsSecret } from '../../unit/controllers/kmsdeployment/step-harness.ts';
import { getKMSDeployment, waitFor, withControlPlane, type ControlPlane } from '../runtime/harness.ts';
import { adminClient, ensureNamespace } from '../../support/kube.ts';
import { inNamespace, kmsDeployment, withSpec } from '../../support/kmsdeployment.ts';
import { newManager } from '../../support/operator.ts';
import { scrape, select, total, valueOf, type Sample } from './scrape.ts';

const skip = missingProgram('kes');
const KEYS = ['minio-key-1', 'minio-key-2'];

describe('KES metrics on /metrics (real KES, Vault and kube-apiserver)', { skip, timeout: 300_000 }, () => {
  let env: KesOnVault;
  let plane: ControlPlane;
  let admin: KubeClient;
  let manager: Manager;

  before(async () => {
    [env, plane] = await Promise.all([startKesOnVault({ kvVersion: 'v1', keys: KEYS, keyName: KEYS[0] as string }), withControlPlane()]);
    admin = adminClient(plane);
    await ensureNamespace(admin, env.ref.namespace);
    const endpoint = () => env.kes.url;
    manager = newManager(plane, { steps: [keysStep({ endpoint }), verifyStep({ endpoint })], cleanups: [] });
    await manager.start();
  });

  after(async () => {
    await manager?.stop();
    await Promise.all([plane?.stop(), env?.stop()]);
  });

  /** The client identities as the PKI step would have written them: owned by the deployment, labelled. */
  async function putIdentity(owner: KubeObject, name: string, pem: { cert: string; key: string }): Promise<void> {
    const secret = tlsSecret(name, pem, env.ca.cert);
    secret.metadata.labels = { [MANAGED_BY_LABEL]: MANAGED_BY };
    secret.metadata.ownerReferences = [{ apiVersion: owner.apiVersion ?? '', kind: owner.kind ?? '', name: owner.metadata.name ?? '', uid: owner.metadata.uid ?? '', controller: true }];
    await admin.create(secret);
  }

  it('counts the master keys, times the last round trip, and records every KES call', async () => {
    const { name, namespace } = env.ref;
    const before = await scrape(manager.httpPort as number);
    const started = Date.now() / 1000;
    const owner = await admin.create(kmsDeployment(name, inNamespace(namespace), withSpec(env.specFor(KEYS, KEYS[0] as string))));
    await putIdentity(owner, `${name}-operator-kes-identity`, env.operatorClient);
    await putIdentity(owner, `${name}-minio-kes-identity`, env.minioClient);
    await waitFor('KeysReady and EncryptionVerified', async () => {
      const conditions = ((await getKMSDeployment(admin, namespace, name))?.status?.conditions ?? []).filter((c) => c.status === 'True').map((c) => c.type);
      return conditions.includes('KeysReady') && conditions.includes('EncryptionVerified') ? true : undefined;
    }, 120_000, 300);

    const samples = await scrape(manager.httpPort as number);
    const ours = { namespace, name };
    assert.equal(valueOf(samples, 'kmsstack_kmsdeployment_master_keys', ours), KEYS.length);
    const verified = valueOf(samples, 'kmsstack_kmsdeployment_encryption_verified_timestamp_seconds', ours);
    assert.ok(verified !== undefined && verified >= started && verified <= Date.now() / 1000, `the round trip was timed at ${verified}, after ${started}`);

    const timed = (s: Sample[], labels: Record<string, string> = {}) => total(s, 'kmsstack_kes_request_duration_seconds_count', labels);
    assert.ok(timed(samples) > timed(before), `the KES request histogram moved (${timed(before)} -> ${timed(samples)})`);
    const operations = new Set(select(samples, 'kmsstack_kes_request_duration_seconds_count').map((s) => s.labels['operation']));
    for (const operation of ['generate', 'decrypt']) {
      assert.ok([...operations].some((o) => o?.includes(operation)), `a ${operation} call was timed (operations: ${[...operations].join(', ')})`);
    }
    assert.ok(total(samples, 'kmsstack_kes_requests_total') > total(before, 'kmsstack_kes_requests_total'), 'KES requests were counted');

    // A later round trip moves the gauge forward.
    const again = Date.now() / 1000;
    manager.queue.add(`${namespace}/${name}`);
    await waitFor('a newer round trip', async () => {
      const now = valueOf(await scrape(manager.httpPort as number), 'kmsstack_kmsdeployment_encryption_verified_timestamp_seconds', ours);
      return now !== undefined && now >= again ? true : undefined;
    }, 30_000, 200);
  });
});
