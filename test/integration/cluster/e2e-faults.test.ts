// End to end on the local cluster: faults with the real processes. The minimal example (2 KES Pods, 4 MinIO
// servers) is applied as in e2e.test.ts; then, each while a loop of SSE-S3 PUTs, each read back at once, goes
// through the MinIO Service's ready Pods (underS3Load in test/env/e2e-checks.ts): a KES process killed, every
// KES Pod deleted at once, Vault sealed for a minute, a MinIO Pod deleted. The steps that need the kes and
// minio programs skip with one line without them (docs/testing.md).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { kesNames } from '../../../src/workload/names.ts';
import { minioNames } from '../../../src/minio/names.ts';
import { clusterUnavailable, stopWithoutLeftovers } from '../../env/cluster.ts';
import { QUORUM_BLIP, checkLoad, underS3Load } from '../../env/e2e-checks.ts';
import {
  conditionsOf, kubectlWaitReady, s3Client, startMinimalExample, type E2EStack,
} from '../../env/e2e-stack.ts';
import { filesUnder } from '../../env/drive-files.ts';
import { isAlive, waitFor } from '../../env/process.ts';
import { missingProgram } from '../../env/programs.ts';

const NAMESPACE = 'storage'; // the namespace examples/kmsdeployment-minimal.yaml is written for
const NAME = 'minio-kms';
const REF = { namespace: NAMESPACE, name: NAME };
const KES = kesNames(NAME).workload;
const MINIO = minioNames(NAME).workload;
const MINIO_SERVERS = 4; // spec.minio.replicas of the minimal example
const RESYNC = '20s';

const programs = missingProgram('kes') || missingProgram('minio') || clusterUnavailable();

describe('end to end: faults with real processes', { skip: programs }, () => {
  let stack: E2EStack;

  before(async () => {
    // A sealed Vault shows in the status at the next reconcile: within one resync period (chart default 10m).
    stack = await startMinimalExample(NAMESPACE, NAME, { values: [`operator.resyncPeriod=${RESYNC}`] });
  });
  after(async () => {
    await stopWithoutLeftovers(stack);
  });

  type Pod = { metadata: { name: string; uid: string }; status: { podIP?: string; containerStatuses?: { restartCount: number; ready: boolean }[] } };
  const pods = async (app: 'kes' | 'minio') => ((await stack.json(['get', 'pods', '-n', NAMESPACE, '-l', `app.kubernetes.io/name=${app},app.kubernetes.io/instance=${NAME}`])) as { items: Pod[] }).items;
  const processOf = (pod: string) => stack.cluster.node.pods().find((p) => p.namespace === NAMESPACE && p.name === pod)?.pids[0];
  /** Waits until every MinIO server serves an encrypted PUT into `bucket`, through a port-forward into its Pod. */
  const everyMinioServerEncrypts = async (bucket: string, what: string) => {
    for (let server = 0; server < MINIO_SERVERS; server++) {
      const one = await s3Client(stack, NAMESPACE, NAME, server);
      try {
        await waitFor(`MinIO server ${server} ${what}`, () => one.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `server-${server}.txt`, Body: 'x', ServerSideEncryption: 'AES256' })).then(() => true, () => undefined), 60_000, 250);
      } finally {
        await one.close();
      }
    }
  };

  it('a KES process killed (SIGKILL): the other KES Pod serves meanwhile, the container restarts; zero failed S3 requests', async (t) => {
    const [victim] = await pods('kes');
    const result = await underS3Load(stack, REF, 'kes-killed', async () => {
      process.kill(processOf(victim!.metadata.name)!, 'SIGKILL');
      await waitFor('the KES container restarted and ready', async () => {
        const now = (await pods('kes')).find((p) => p.metadata.uid === victim!.metadata.uid);
        const container = now?.status.containerStatuses?.[0];
        return container && container.restartCount > victim!.status.containerStatuses![0]!.restartCount && container.ready ? true : undefined;
      }, 120_000, 500);
    });
    checkLoad(t, 'one KES killed', result);
  });

  it('every KES Pod deleted at once: encrypted requests fail only while no KES runs, MinIO recovers by itself; earlier objects intact', async (t) => {
    const { s3, close } = await s3Client(stack, NAMESPACE, NAME, 'service');
    try {
      const before = Buffer.from('written before KES went away');
      await s3.send(new CreateBucketCommand({ Bucket: 'kes-gone' }));
      await s3.send(new PutObjectCommand({ Bucket: 'kes-gone', Key: 'before.txt', Body: before, ServerSideEncryption: 'AES256' }));
      const old = (await pods('kes')).map((p) => p.metadata.name);
      const pids = old.map(processOf).filter((pid): pid is number => pid !== undefined);
      assert.equal(pids.length, old.length, 'each KES Pod runs a process');
      await stack.cluster.kubectl(['delete', 'pods', '-n', NAMESPACE, '--wait=false', ...old]);
      await waitFor('every old KES process gone', async () => (pids.some(isAlive) ? undefined : true), 60_000, 50);
      const gone = Date.now();
      let failed = 0;
      await waitFor('an encrypted PUT through a new KES', async () => {
        try {
          await s3.send(new PutObjectCommand({ Bucket: 'kes-gone', Key: 'probe.txt', Body: 'x', ServerSideEncryption: 'AES256' }));
          return true;
        } catch {
          failed++;
          return undefined;
        }
      }, 180_000, 250);
      // A PUT may also wait inside MinIO (its KES client retries) and then succeed: 0 failed attempts, yet seconds.
      t.diagnostic(`with no KES process, an encrypted PUT first succeeded ${((Date.now() - gone) / 1000).toFixed(1)} s after the last one was gone (${failed} failed attempts before), once a new KES Pod was ready`);
      assert.ok((await pods('kes')).some((p) => !old.includes(p.metadata.name) && p.status.containerStatuses?.[0]?.ready), 'the PUT went through a new KES Pod');
      await kubectlWaitReady(stack, NAMESPACE, NAME, '180s');
      // Each MinIO server finds the new KES Pods on its own (its KES client backs off from failed endpoints).
      await everyMinioServerEncrypts('kes-gone', 'encrypting again');
      t.diagnostic(`every MinIO server encrypting again ${((Date.now() - gone) / 1000).toFixed(1)} s after the last KES process was gone`);
      const read = await s3.send(new GetObjectCommand({ Bucket: 'kes-gone', Key: 'before.txt' }));
      assert.ok(Buffer.from(await read.Body!.transformToByteArray()).equals(before), 'an object written before reads back through the new KES Pods');
    } finally {
      await close();
    }
    // Then steady again: a loop with nothing happening has no failure.
    checkLoad(t, 'after KES came back', await underS3Load(stack, REF, 'kes-back', () => sleep(5000)));
  });

  // KES holds a key only after a request for it reached that KES Pod, and drops it when unused for
  // cache.expiry.unused (20s): the offline cache keeps what a Pod holds when Vault seals, nothing more. The
  // offline-cache patch rolls KES, so Vault is sealed only once the roll is over — no Pod of before left, so no
  // MinIO server moves to a new KES Pod under the seal — and every MinIO server has encrypted through the KES
  // Pod it now reaches (what MinIO's own readiness probe, a KMS GenerateKey every 10 s, does in steady state).
  // One CI run sealed right after the roll: every MinIO server failed from the seal on (1,372
  // kms:KeyGenerationFailed, the first two after 11 s: KES's client TLS handshake timeout of 10 s and a retry,
  // as to a KES Pod just gone), then MinIO's readiness probe failed too and every MinIO Pod left its Service
  // (17,722 refused TLS handshakes) until the unseal; docs/testing.md.
  it(`Vault sealed for a minute: KES serves its cached keys (cache.expiry.offline), the status reports Sealed within one resync (${RESYNC}), all recovers on unseal`, async (t) => {
    const kesBefore = (await pods('kes')).map((p) => ({ name: p.metadata.name, pid: processOf(p.metadata.name) }));
    // The minimal example keeps no offline cache: a seal would stop KES at its next 5-minute eviction.
    await stack.cluster.kubectl(['patch', 'kmsd', NAME, '-n', NAMESPACE, '--type=merge', '-p', JSON.stringify({ spec: { kes: { cache: { expiry: { offline: '1h' } } } } })]);
    await waitFor('KES rolled with the offline cache', async () => {
      const config = await stack.json(['get', 'secret', kesNames(NAME).configSecret, '-n', NAMESPACE]) as { data: Record<string, string> };
      return Object.values(config.data).some((v) => Buffer.from(v, 'base64').toString('utf8').includes('offline: 1h')) ? true : undefined;
    }, 60_000, 500);
    await stack.cluster.kubectl(['rollout', 'status', `deployment/${KES}`, '-n', NAMESPACE, '--timeout=180s']);
    // rollout status returns while the last old Pod is still terminating (and serving MinIO's connections).
    await waitFor('every KES Pod of before the patch gone, its process ended', async () => {
      const now = (await pods('kes')).map((p) => p.metadata.name);
      return kesBefore.some((old) => now.includes(old.name) || (old.pid !== undefined && isAlive(old.pid))) ? undefined : true;
    }, 180_000, 500);
    await kubectlWaitReady(stack, NAMESPACE, NAME, '180s');
    const { s3, close } = await s3Client(stack, NAMESPACE, NAME, 'service');
    await s3.send(new CreateBucketCommand({ Bucket: 'sealed-warm' })).finally(close);
    await everyMinioServerEncrypts('sealed-warm', 'encrypting through the new KES Pods');
    let sealedReported: string | undefined;
    const result = await underS3Load(stack, REF, 'sealed', async () => {
      const sealedAt = Date.now();
      await stack.vault.seal();
      sealedReported = await waitFor('VaultConfigured=False/Sealed', async () => {
        const vault = (await conditionsOf(stack, NAMESPACE, NAME)).find((c) => c.type === 'VaultConfigured');
        return vault?.status === 'False' && vault.reason === 'Sealed' ? `${((Date.now() - sealedAt) / 1000).toFixed(1)} s after the seal: ${vault.message}` : undefined;
      }, 50_000, 1000);
      await sleep(Math.max(0, 60_000 - (Date.now() - sealedAt)));
      await stack.vault.unseal();
    });
    t.diagnostic(`status reported Sealed ${sealedReported}`);
    checkLoad(t, 'Vault sealed for a minute', result);
  });

  it('a MinIO Pod deleted: the StatefulSet brings it back on its drive, the data intact; zero failed S3 requests', async (t) => {
    const victim = `${MINIO}-2`;
    const uid = ((await stack.json(['get', 'pod', victim, '-n', NAMESPACE])) as Pod).metadata.uid;
    const drives = join(stack.cluster.node.options.dir, 'volumes');
    const onItsDrive = () => filesUnder(drives).filter((path) => path.includes(`${NAMESPACE}_data1-${victim}_`) && path.includes(join('minio-deleted', 'load')) && path.endsWith('xl.meta')).length;
    const result = await underS3Load(stack, REF, 'minio-deleted', async () => {
      await sleep(2000);
      const before = onItsDrive();
      assert.ok(before > 0, 'objects of the loop are on the Pod\'s drive before');
      await stack.cluster.kubectl(['delete', 'pod', victim, '-n', NAMESPACE, '--wait=false']);
      await waitFor('a new MinIO Pod under the same name, ready', async () => {
        const now = (await stack.json(['get', 'pod', victim, '-n', NAMESPACE]).catch(() => undefined)) as Pod | undefined;
        return now && now.metadata.uid !== uid && now.status.containerStatuses?.[0]?.ready ? true : undefined;
      }, 180_000, 500);
      assert.ok(onItsDrive() >= before, 'its drive kept what it held');
    });
    checkLoad(t, 'a MinIO Pod deleted', result, QUORUM_BLIP);
  });
});
