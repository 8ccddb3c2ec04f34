// MinIO's S3 TLS and server pools on the local test cluster, with the operator installed by helm (as
// operator.test.ts) and the real minio program in the Pods: a StaticKey KMSDeployment with 4 servers
// serves S3 over HTTPS, verified with the CA the operator publishes (ConfigMap named in
// status.minio.caConfigMap) for the name in status.minio.endpoint; objects are encrypted (SSE-S3,
// auto-encryption); then a second pool is added and the two-pool MinIO becomes Ready, still reads
// every object written before, and takes new ones.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { clusterUnavailable, startCluster, type Cluster } from '../../env/cluster.ts';
import { httpStatus, repoRoot, waitFor } from '../../env/process.ts';
import { missingProgram } from '../../env/programs.ts';
import { chartDir, helm, releaseName, releaseNamespace } from '../../unit/packaging/helm.ts';

const execFileAsync = promisify(execFile);
const NS = 'team-p';
const NAME = 'store';
type Condition = { type: string; status: string; reason?: string; message?: string };
type KmsdView = { metadata: { generation: number }; status?: { observedGeneration?: number; conditions?: Condition[]; minio?: { endpoint?: string; caConfigMap?: string; readyReplicas?: number } } };

describe('MinIO S3 over TLS and server pools on the local test cluster', { skip: clusterUnavailable() || missingProgram('minio') }, () => {
  let cluster: Cluster;
  const json = async <T>(args: string[]): Promise<T> => JSON.parse((await cluster.kubectl([...args, '-o', 'json'])).stdout) as T;
  const kmsd = () => json<KmsdView>(['get', 'kmsdeployment', NAME, '-n', NS]);
  const objects = new Map<string, string>();
  /** Requests the S3 client sent again after a 5xx (the SDK's standard retry with backoff). */
  let retried = 0;

  /** Waits until the KMSDeployment's current generation is Ready; the conditions in the error otherwise. */
  async function ready(timeoutMs: number): Promise<KmsdView> {
    let last: KmsdView | undefined;
    try {
      return await waitFor('the KMSDeployment to be Ready', async () => {
        last = await kmsd();
        const isReady = last.status?.observedGeneration === last.metadata.generation && last.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        return isReady ? last : undefined;
      }, timeoutMs, 1000);
    } catch (err) {
      throw new Error(`${(err as Error).message}; conditions: ${JSON.stringify(last?.status?.conditions)}; node agent log: ${cluster.clusterLogs.nodeAgent}`);
    }
  }

  /**
   * A port-forward to MinIO on `pod` and what an in-cluster client verifies its certificate with: the CA
   * the operator publishes (ConfigMap named in status.minio.caConfigMap) and the name in status.minio.endpoint.
   */
  async function minioTls(pod: string): Promise<{ port: number; ca: string; servername: string; close(): Promise<void> }> {
    const { status } = await kmsd();
    assert.ok(status?.minio?.caConfigMap && status.minio.endpoint, 'status names the endpoint and the CA ConfigMap');
    const endpoint = new URL(status.minio.endpoint);
    assert.equal(endpoint.protocol, 'https:');
    const { data } = await json<{ data: Record<string, string> }>(['get', 'configmap', status.minio.caConfigMap, '-n', NS]);
    const { status: podStatus } = await json<{ status: { podIP: string } }>(['get', 'pod', pod, '-n', NS]);
    const forward = await cluster.node.network.portForward(podStatus.podIP, 9000);
    return { port: forward.port, ca: data['ca.crt'] ?? '', servername: endpoint.hostname, close: () => forward.close() };
  }

  /** An S3 client to a MinIO server through a port-forward, verifying its certificate as an in-cluster client would. */
  async function s3(pod: string, maxAttempts = 3, trusted = true): Promise<{ s3: S3Client; close(): Promise<void> }> {
    const tls = await minioTls(pod);
    const root = await json<{ data: Record<string, string> }>(['get', 'secret', `${NAME}-minio-root`, '-n', NS]);
    const decode = (key: string) => Buffer.from(root.data[key] ?? '', 'base64').toString('utf8');
    const client = new S3Client({
      endpoint: `https://127.0.0.1:${tls.port}`, region: 'us-east-1', forcePathStyle: true, maxAttempts,
      credentials: { accessKeyId: decode('rootUser'), secretAccessKey: decode('rootPassword') },
      requestHandler: { httpsAgent: new HttpsAgent({ ...(trusted ? { ca: tls.ca } : {}), servername: tls.servername }) },
    });
    return { s3: client, close: async () => { client.destroy(); await tls.close(); } };
  }

  /** Waits until MinIO on `pod` answers GET /minio/health/cluster with 200 (the cluster has write quorum). */
  async function clusterHealthy(pod: string, timeoutMs: number): Promise<void> {
    const tls = await minioTls(pod);
    let last = 'no answer yet';
    const healthy = () => httpStatus(`https://127.0.0.1:${tls.port}/minio/health/cluster`, tls).then(
      (code) => { last = String(code); return code === 200 ? true : undefined; },
      (err: Error) => { last = err.message; throw err; },
    );
    try {
      await waitFor(`MinIO ${pod} to report a healthy cluster`, healthy, timeoutMs, 1000);
    } catch (err) {
      const log = cluster.node.logFile(NS, pod, 'minio');
      const tail = log && existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-30).join('\n') : '(no log)';
      throw new Error(`${(err as Error).message}; last answer: ${last}; the last lines of ${log}:\n${tail}`);
    } finally {
      await tls.close();
    }
  }

  async function putObjects(client: S3Client, prefix: string, count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const key = `${prefix}-${i}`;
      const body = `${key}: ${'x'.repeat(1000 + i)}`;
      const put = await client.send(new PutObjectCommand({ Bucket: 'pools', Key: key, Body: body, ServerSideEncryption: 'AES256' }));
      retried += (put.$metadata.attempts ?? 1) - 1;
      objects.set(key, body);
    }
  }

  async function readAll(client: S3Client): Promise<void> {
    for (const [key, body] of objects) {
      const got = await client.send(new GetObjectCommand({ Bucket: 'pools', Key: key }));
      retried += (got.$metadata.attempts ?? 1) - 1;
      assert.equal(await got.Body?.transformToString(), body, key);
      assert.equal(got.ServerSideEncryption, 'AES256', `${key} is encrypted (SSE-S3)`);
    }
  }

  before(async () => {
    await execFileAsync('npm', ['run', 'build'], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
    cluster = await startCluster({ installCRDs: false });
    await cluster.kubectl(['create', 'namespace', NS]);
    const install = await helm(['install', releaseName, chartDir, '-n', releaseNamespace, '--create-namespace',
      '--kubeconfig', cluster.kubeconfigPath, '--set', `watchNamespaces={${NS}}`, '--wait=false']);
    assert.equal(install.code, 0, install.stderr);
  });
  after(async () => {
    await cluster?.stop({ keepLogs: Boolean(process.env.KMSSTACK_KEEP_LOGS) });
  });

  it('a TLS MinIO (the default) serves S3 over HTTPS verified with the published CA, and encrypts', async () => {
    await cluster.kubectl(['apply', '-n', NS, '-f', '-'], JSON.stringify({
      apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment', metadata: { name: NAME },
      spec: { mode: 'StaticKey', minio: { replicas: 4, keyName: 'store-key', autoEncryption: true, storage: { size: '1Gi' } } },
    }));
    await ready(240_000);
    const client = await s3(`${NAME}-minio-0`);
    try {
      await client.s3.send(new CreateBucketCommand({ Bucket: 'pools' }));
      await putObjects(client.s3, 'before', 5);
      await readAll(client.s3);
      const head = await client.s3.send(new HeadObjectCommand({ Bucket: 'pools', Key: 'before-0' }));
      assert.equal(head.ServerSideEncryption, 'AES256');
    } finally {
      await client.close();
    }
    // The same client without the published CA (the system roots only) fails: verification is really on.
    const untrusting = await s3(`${NAME}-minio-1`, 1, false);
    try {
      await assert.rejects(untrusting.s3.send(new HeadObjectCommand({ Bucket: 'pools', Key: 'before-0' })), /certificate/);
    } finally {
      await untrusting.close();
    }
  });

  it('adding a server pool gives a running two-pool MinIO that still reads the first pool\'s encrypted objects', async (t) => {
    await cluster.kubectl(['patch', 'kmsdeployment', NAME, '-n', NS, '--type', 'merge', '-p', JSON.stringify({ spec: { minio: { pools: [{ name: 'p2', servers: 4 }] } } })]);
    const done = await ready(300_000);
    assert.equal(done.status?.minio?.readyReplicas, 8, 'both pools ready');
    const pool = await json<{ status: { readyReplicas?: number } }>(['get', 'statefulset', `${NAME}-minio-p2`, '-n', NS]);
    assert.equal(pool.status.readyReplicas, 4);
    // MinIO's readiness passes before its object layer is up (docs/minio.md, "Adding a server pool"): a
    // new pool changes every server's MINIO_VOLUMES, and the servers answer 503 XMinioServerNotInitialized
    // until they agree. S3 is served once /minio/health/cluster (write quorum) answers 200 on both pools.
    const readyAt = Date.now();
    for (const pod of [`${NAME}-minio-0`, `${NAME}-minio-p2-3`]) await clusterHealthy(pod, 180_000);
    t.diagnostic(`cluster healthy ${((Date.now() - readyAt) / 1000).toFixed(1)} s after Ready`);
    // Even then a write can miss its quorum for a moment while the restarted servers' connections to each
    // other settle (503 SlowDownWrite, seen in CI): the client retries 5xx with backoff as S3 clients do, and
    // every retry is reported.
    retried = 0;
    for (const pod of [`${NAME}-minio-0`, `${NAME}-minio-p2-3`]) {
      const client = await s3(pod, 10);
      try {
        await readAll(client.s3);
        await putObjects(client.s3, `after-${pod}`, 5);
        await readAll(client.s3);
      } finally {
        await client.close();
      }
    }
    t.diagnostic(`${retried} S3 requests retried after the restart (SDK standard retry, at most 10 attempts each)`);
  });
});
