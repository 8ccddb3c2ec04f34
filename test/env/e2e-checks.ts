// What the end-to-end suite asks of a running stack (test/env/e2e-stack.ts) beyond S3 round trips: calls to a
// deployment's KES Pod as some deployment's MinIO identity (mTLS), a login with a deployment's AppRole, the
// processes of a namespace's Pods, and an S3 PUT/GET loop that counts every failed request while something
// changes underneath it.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:https';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { KES_PORT, kesNames } from '../../src/workload/names.ts';
import { MINIO_S3_PORT, minioNames } from '../../src/minio/names.ts';
import { APPROLE_SECRET_KEYS, appRoleSecretName } from '../../src/vault/names.ts';
import { kubectlWaitReady, s3Client, type E2EStack, type S3ClientOptions } from './e2e-stack.ts';

type Ref = { namespace: string; name: string };

async function secretData(stack: E2EStack, namespace: string, name: string): Promise<Record<string, string>> {
  const secret = await stack.json(['get', 'secret', name, '-n', namespace]) as { data: Record<string, string> };
  return Object.fromEntries(Object.entries(secret.data).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
}

/**
 * POST `path` to the first KES Pod of `kes`, presenting the MinIO client identity of `as` (its Secret's
 * certificate and key). Resolves to the HTTP status, or to `tls: <error>` when KES refuses the handshake.
 */
export async function kesCallAs(stack: E2EStack, as: Ref, kes: Ref, path: string): Promise<number | string> {
  const identity = await secretData(stack, as.namespace, minioNames(as.name).kesIdentitySecret);
  const pods = await stack.json(['get', 'pods', '-n', kes.namespace, '-l', `app.kubernetes.io/name=kes,app.kubernetes.io/instance=${kes.name}`]) as {
    items: { status: { podIP?: string } }[];
  };
  const podIP = pods.items.find((pod) => pod.status.podIP)?.status.podIP;
  if (!podIP) throw new Error(`no KES Pod of ${kes.namespace}/${kesNames(kes.name).workload} has an address`);
  const forward = await stack.cluster.node.network.portForward(podIP, KES_PORT);
  try {
    return await new Promise((resolve, reject) => {
      // The server certificate is not checked here (the port-forward has another name): what is tested is
      // what KES allows the client identity to do.
      const req = request({
        host: '127.0.0.1', port: forward.port, method: 'POST', path, cert: identity['tls.crt'], key: identity['tls.key'],
        rejectUnauthorized: false, timeout: 10_000, headers: { 'Content-Type': 'application/json' },
      }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('timeout', () => req.destroy(new Error(`KES ${path}: timeout`)));
      req.on('error', (err: NodeJS.ErrnoException) => (err.code?.startsWith('ERR_SSL') || /socket hang up|ECONNRESET/.test(err.message) ? resolve(`tls: ${err.message}`) : reject(err)));
      req.end('{}');
    });
  } finally {
    await forward.close();
  }
}

/** A Vault token of the deployment's AppRole (the role-id and secret-id the operator gave KES). */
export async function appRoleToken(stack: E2EStack, deployment: Ref): Promise<string> {
  const approle = await secretData(stack, deployment.namespace, appRoleSecretName(deployment.name));
  const login = await stack.vault.request('POST', 'auth/approle/login', {
    role_id: approle[APPROLE_SECRET_KEYS.roleId], secret_id: approle[APPROLE_SECRET_KEYS.secretId],
  }, '');
  const token = (login.body?.['auth'] as { client_token?: string } | undefined)?.client_token;
  if (login.status !== 200 || !token) throw new Error(`AppRole login of ${deployment.namespace}/${deployment.name} answered ${login.status}`);
  return token;
}

/** The process ids of the node agent's Pods in `namespace`. */
export function podProcesses(stack: E2EStack, namespace: string): number[] {
  return stack.cluster.node.pods().filter((pod) => pod.namespace === namespace).flatMap((pod) => pod.pids);
}

export interface LoadResult {
  requests: number;
  /** Connections a stopping MinIO Pod refused before any byte reached it, sent to another ready Pod instead. */
  reroutes: string[];
  failures: string[];
  /** Every object written, with its content, to read back afterwards. */
  written: Map<string, Buffer>;
}

/**
 * A loop of SSE-S3 PUTs, each read back at once (GET, byte comparison), one request at a time, until `stop()`.
 * Every failed request, and every object that reads back different, is recorded with its error.
 */
export function s3Load(s3: S3Client, bucket: string, reroutes: string[] = []): { stop(): Promise<LoadResult> } {
  const result: LoadResult = { requests: 0, reroutes: [], failures: [], written: new Map() };
  let running = true;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const key = `load/${i}.bin`;
      const body = randomBytes(16 * 1024);
      try {
        result.requests++;
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ServerSideEncryption: 'AES256' }));
        result.written.set(key, body);
        result.requests++;
        const read = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());
        if (!read.equals(body)) result.failures.push(`${key}: read back different`);
      } catch (err) {
        // An answer of MinIO (any HTTP status) is a failure like no answer at all: nothing here retries.
        const { httpStatusCode: status, extendedRequestId: server } = (err as { $metadata?: { httpStatusCode?: number; extendedRequestId?: string } }).$metadata ?? {};
        result.failures.push(`${new Date().toISOString()} ${key}: ${status ? `HTTP ${status} ` : ''}${(err as Error).name}: ${(err as Error).message}${server ? ` (answered by server ${server})` : ''}`);
      }
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      result.reroutes = [...reroutes];
      return result;
    },
  };
}

/**
 * Runs `change` while a loop of SSE-S3 PUTs, each read back at once, goes to the deployment's MinIO Service
 * (its ready Pods, as kube-proxy would route: s3Client 'service'), from 3 s before the change until 3 s after
 * the deployment is Ready again. Then every object written is read again. Returns the loop's result; the
 * caller asserts that nothing failed. `client.caRefreshMs` makes the client re-read MinIO's CA bundle as it goes.
 */
export async function underS3Load(stack: E2EStack, deployment: Ref, bucket: string, change: () => Promise<void>, client: S3ClientOptions = {}): Promise<LoadResult & { unreadable: string[]; caChanges: number }> {
  const { s3, reroutes, caChanges, close } = await s3Client(stack, deployment.namespace, deployment.name, 'service', client);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const load = s3Load(s3, bucket, reroutes);
    let result: LoadResult;
    try {
      await sleep(3000);
      await change();
      await kubectlWaitReady(stack, deployment.namespace, deployment.name, '360s');
      await sleep(3000);
    } finally {
      result = await load.stop();
    }
    const unreadable: string[] = [];
    for (const [key, body] of result.written) {
      const read = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })).then((r) => r.Body!.transformToByteArray(), (err: Error) => err);
      if (read instanceof Error || !Buffer.from(read).equals(body)) unreadable.push(`${key}: ${read instanceof Error ? read.message : 'reads back different'}`);
    }
    return { ...result, failures: result.failures.map((f) => nameServers(f, deployment)), unreadable, caChanges: caChanges() };
  } finally {
    await close();
  }
}

/**
 * `failure` with MinIO's x-amz-id-2 (the SHA-256 of the answering server's host:port, `globalLocalNodeNameHex`)
 * replaced by the Pod name, for the servers of the first pool (the e2e deployments have one).
 */
function nameServers(failure: string, deployment: Ref): string {
  const names = minioNames(deployment.name);
  return failure.replace(/answered by server ([0-9a-f]{64})/, (whole, hash: string) => {
    for (let ordinal = 0; ordinal < 16; ordinal++) {
      const pod = `${names.workload}-${ordinal}`;
      const host = `${pod}.${names.headless}.${deployment.namespace}.svc.cluster.local`;
      for (const peer of [`${host}:${MINIO_S3_PORT}`, host]) {
        if (createHash('sha256').update(peer).digest('hex') === hash) return `answered by ${pod}`;
      }
    }
    return whole;
  });
}

/**
 * Isolated write-quorum misses from a restarted MinIO server right after its first passing readiness check
 * (about 1 in 5,000 requests until session 8; docs/testing.md). Its readiness must now pass twice 10 s apart;
 * any that remain are counted, listed with the server, and bounded, not hidden.
 */
export const QUORUM_BLIP = { failure: 'HTTP 503 SlowDownWrite', why: 'a write as a restarted server rejoins', atMost: 0.001 };

/**
 * What a step under load must show: the loop ran, no request failed, every object reads back. `expected`
 * names failures that are known and documented for this step (docs/testing.md): they are reported with their
 * count and must stay within `atMost` of the requests; any other failure fails the step.
 */
export function checkLoad(t: TestContext, what: string, result: LoadResult & { unreadable: string[]; caChanges?: number }, expected?: { failure: string; why: string; atMost: number }): void {
  const known = expected ? result.failures.filter((f) => f.includes(expected.failure)) : [];
  t.diagnostic(`${what}: ${result.requests} S3 requests, ${result.failures.length} failed${expected ? ` (${known.length} ${expected.failure}: ${expected.why})` : ''}, ${result.reroutes.length} connections re-routed from a stopping Pod${result.caChanges ? `, MinIO's CA bundle changed ${result.caChanges} times under the client` : ''}`);
  for (const failure of known.slice(0, 10)) t.diagnostic(`${what}: ${failure}`);
  assert.deepEqual(result.failures.filter((f) => !known.includes(f)), [], `no failed request of ${result.requests}`);
  if (expected) assert.ok(known.length <= expected.atMost * result.requests, `at most ${expected.atMost * 100}% ${expected.failure}: ${known.join('; ')}`);
  assert.ok(result.requests >= 20, `the loop ran during the change (${result.requests} requests)`);
  assert.deepEqual(result.unreadable, [], `every one of the ${result.written.size} objects reads back`);
}
