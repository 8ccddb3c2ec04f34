// One round of `npm run bench:chain` (bench/chain.ts) on the local test cluster: N KMSDeployments (the
// minimal example, each in its own namespace because the operator hands out Vault prefixes only under
// kmsstack/<namespace>) created at once, the time from the create to each condition turning True; then a
// certificate renewal across all of them and the time until KES and MinIO run the new certificates and
// the objects are Ready; then one SSE-S3 PUT and GET per object. It measures, it asserts nothing: what
// is not reached within the time limit is reported as not reached. Polls with one `kubectl get -A` per
// second for every object at once, so the figures have a resolution of about a second.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import * as yaml from 'js-yaml';
import { minioNames } from '../../src/minio/names.ts';
import { pkiSecretNames } from '../../src/pki/names.ts';
import { CERTIFICATES_CHECKSUM_ANNOTATION, workloadSettled } from '../../src/workload/certificates.ts';
import { kesNames } from '../../src/workload/names.ts';
import { type Condition, type E2EStack, s3Client } from '../../test/env/e2e-stack.ts';
import { repoRoot } from '../../test/env/process.ts';

/** The deployment's name in every namespace: the example's. */
export const CHAIN_NAME = 'minio-kms';
const POLL_MS = 1000;

/** The namespaces of the round with N objects: one per object, created (with `vault-ca`) before the operator is installed. */
export function roundNamespaces(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `chain-${n}-${i + 1}`);
}

export interface ObjectTimes {
  namespace: string;
  /** Milliseconds from the create to the first poll that saw each condition True. */
  conditionTrueMs: Record<string, number>;
  /** Milliseconds from the renewal's patch to: the new KES server certificate, KES and MinIO rolled to it, Ready with both rolled. */
  rotation: { reissuedMs?: number; kesRolledMs?: number; minioRolledMs?: number; readyAgainMs?: number };
  s3?: string;
}

export interface ChainRound {
  n: number;
  objects: ObjectTimes[];
  /** 1-minute load average when the round started, when it ended and the highest seen while it ran. */
  load: { start: number; end: number; max: number };
  notes: string[];
}

type Item = { kind: string; metadata: { name: string; namespace: string; annotations?: Record<string, string> };
  spec?: unknown; status?: { conditions?: Condition[] }; data?: Record<string, string> };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The minimal example for `namespace`: only the Vault prefix changes (kmsstack/<namespace>/minio), as its comments say. */
export function chainExample(namespace: string): Record<string, unknown> {
  const text = readFileSync(join(repoRoot, 'examples/kmsdeployment-minimal.yaml'), 'utf8');
  const object = yaml.load(text) as { metadata: Record<string, unknown>; spec: { vault: { kv: { prefix: string } } } };
  object.metadata.namespace = namespace;
  object.spec.vault.kv.prefix = object.spec.vault.kv.prefix.replace('kmsstack/storage/', `kmsstack/${namespace}/`);
  return object;
}

async function list(stack: E2EStack, kinds: string): Promise<Item[]> {
  return ((await stack.json(['get', kinds, '-A'])) as { items: Item[] }).items;
}

const find = (items: Item[], kind: string, namespace: string, name: string) =>
  items.find((i) => i.kind === kind && i.metadata.namespace === namespace && i.metadata.name === name);
const isReady = (item: Item | undefined) =>
  Boolean(item?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));

/** Polls until `done` says every object is finished or `timeoutMs` passed; samples the load average meanwhile. */
async function pollUntil(round: ChainRound, timeoutMs: number,
  step: (elapsedMs: number) => Promise<boolean>): Promise<boolean>
{
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    round.load.max = Math.max(round.load.max, loadavg()[0]!);
    if (await step(performance.now() - started).catch(() => false)) return true;
    await sleep(POLL_MS);
  }
  return false;
}

async function measureCreate(stack: E2EStack, round: ChainRound, timeoutMs: number,
  log: (line: string) => void): Promise<void>
{
  const manifest = JSON.stringify({ apiVersion: 'v1', kind: 'List',
    items: round.objects.map((o) => chainExample(o.namespace)) });
  const started = performance.now();
  await stack.cluster.kubectl(['create', '-f', '-'], manifest);
  const createMs = performance.now() - started;
  const done = await pollUntil(round, timeoutMs, async () => {
    const items = await list(stack, 'kmsd');
    const now = performance.now() - started;
    for (const object of round.objects) {
      for (const condition of find(items, 'KMSDeployment', object.namespace, CHAIN_NAME)?.status?.conditions ?? []) {
        if (condition.status === 'True' && object.conditionTrueMs[condition.type] === undefined) {
          object.conditionTrueMs[condition.type] = now;
        }
      }
    }
    return round.objects.every((o) => o.conditionTrueMs.Ready !== undefined);
  });
  log(
    `  created ${round.n} (kubectl create took ${(createMs / 1000).toFixed(1)} s); ${
      done ? 'all Ready' : `not all Ready within ${timeoutMs / 1000} s`
    }`,
  );
  if (!done) {
    round.notes.push(
      `N = ${round.n}: ${round.objects.filter((o) => o.conditionTrueMs.Ready === undefined).length} not Ready within ${
        timeoutMs / 1000
      } s`,
    );
  }
}

/**
 * A renewal of the certificates, the routine rotation (docs/pki.md): each object's `spec.tls.renewBefore`
 * set so that its certificates are due now (and `validity` doubled so that the new ones are not due
 * again), as e2e-rotations.test.ts triggers it. The operator re-issues the KES server certificate with the
 * others and rolls KES and MinIO to them; a pod template runs the new certificates once its
 * certificates-checksum annotation changed and that rollout is complete (the operator's own rule).
 */
async function measureRenewal(stack: E2EStack, round: ChainRound, timeoutMs: number,
  log: (line: string) => void): Promise<void>
{
  const pki = pkiSecretNames(CHAIN_NAME);
  const kes = kesNames(CHAIN_NAME).workload;
  const minio = minioNames(CHAIN_NAME).workload;
  const kinds = 'kmsd,deployment,statefulset,secret';
  const before = await list(stack, kinds);
  const serial = (
    item: Item | undefined,
  ) => (item?.data?.['tls.crt']
    ? new X509Certificate(Buffer.from(item.data['tls.crt'], 'base64')).serialNumber
    : undefined);
  const checksum = (item: Item | undefined) =>
    (item?.spec as { template?: { metadata?: { annotations?: Record<string, string> } } } | undefined)?.template
      ?.metadata?.annotations?.[CERTIFICATES_CHECKSUM_ANNOTATION];
  const old = round.objects.map((o) => ({
    serial: serial(find(before, 'Secret', o.namespace, pki.leaves.kesServer)),
    kes: checksum(find(before, 'Deployment', o.namespace, kes)),
    minio: checksum(find(before, 'StatefulSet', o.namespace, minio)),
  }));
  const patches = round.objects.map((o, i) => {
    const kesServerPem = Buffer.from(find(before, 'Secret', o.namespace, pki.leaves.kesServer)?.data?.['tls.crt'] ?? '',
      'base64');
    const left = Math.ceil((Date.parse(new X509Certificate(kesServerPem).validTo) - Date.now()) / 1000);
    return { namespace: o.namespace, old: old[i]!,
      patch: JSON.stringify({ spec: { tls: { validity: '4320h', renewBefore: `${left + 600}s` } } }) };
  });
  const started = performance.now();
  // One patch per object, all at once: the rotation reaches every object together, as a due date would.
  await Promise.all(
    patches.map((p) =>
      stack.cluster.kubectl(['patch', 'kmsd', CHAIN_NAME, '-n', p.namespace, '--type=merge', '-p', p.patch])
    ),
  );
  const rolled = (item: Item | undefined, kind: 'Deployment' | 'StatefulSet', previous: string | undefined) => {
    const now = checksum(item);
    return now !== undefined && now !== previous && workloadSettled(kind, item, now);
  };
  const done = await pollUntil(round, timeoutMs, async () => {
    const items = await list(stack, kinds);
    const now = performance.now() - started;
    round.objects.forEach((object, i) => {
      const { old: previous } = patches[i]!;
      const r = object.rotation;
      const newSerial = serial(find(items, 'Secret', object.namespace, pki.leaves.kesServer));
      if (r.reissuedMs === undefined && newSerial && newSerial !== previous.serial) r.reissuedMs = now;
      if (r.kesRolledMs === undefined &&
        rolled(find(items, 'Deployment', object.namespace, kes), 'Deployment', previous.kes)) r.kesRolledMs = now;
      if (r.minioRolledMs === undefined &&
        rolled(find(items, 'StatefulSet', object.namespace, minio), 'StatefulSet', previous.minio))
      {
        r.minioRolledMs = now;
      }
      if (r.readyAgainMs === undefined && r.kesRolledMs !== undefined && r.minioRolledMs !== undefined &&
        isReady(find(items, 'KMSDeployment', object.namespace, CHAIN_NAME))) r.readyAgainMs = now;
    });
    return round.objects.every((o) => o.rotation.readyAgainMs !== undefined);
  });
  log(
    `  certificate renewal: ${
      done ? 'every KES and MinIO rolled, all Ready' : `not finished within ${timeoutMs / 1000} s`
    }`,
  );
  if (!done) round.notes.push(`N = ${round.n}: renewal not rolled through every object within ${timeoutMs / 1000} s`);
}

/** One SSE-S3 PUT and GET per object, through a port-forward to its first MinIO server over TLS: the chain at work. */
async function putAndGet(stack: E2EStack, object: ObjectTimes): Promise<void> {
  let client: Awaited<ReturnType<typeof s3Client>> | undefined;
  try {
    client = await s3Client(stack, object.namespace, CHAIN_NAME);
    const body = Buffer.from(`kmsstack bench:chain ${object.namespace}\n`.repeat(256));
    await client.s3.send(new CreateBucketCommand({ Bucket: 'chain' }));
    const put = await client.s3.send(
      new PutObjectCommand({ Bucket: 'chain', Key: 'object', Body: body, ServerSideEncryption: 'AES256' }),
    );
    const got = await client.s3.send(new GetObjectCommand({ Bucket: 'chain', Key: 'object' }));
    const same = Buffer.from(await got.Body!.transformToByteArray()).equals(body);
    object.s3 = `${put.ServerSideEncryption ?? 'unencrypted'}, ${same ? 'read back identical' : 'read back DIFFERENT'}`;
  } catch (err) {
    object.s3 = `failed: ${(err as Error).message.split('\n')[0]}`;
  } finally {
    await client?.close();
  }
}

/** Deletes the round's objects and waits (bounded) until their Pods are gone, so the next round starts on an idle node. */
async function removeRound(stack: E2EStack, round: ChainRound, log: (line: string) => void): Promise<void> {
  await Promise.all(
    round.objects.map((o) =>
      stack.cluster.kubectl(['delete', 'kmsd', CHAIN_NAME, '-n', o.namespace, '--timeout=180s']).catch(() => undefined)
    ),
  );
  const namespaces = new Set(round.objects.map((o) => o.namespace));
  const gone = await pollUntil(round, 180_000,
    async () => stack.cluster.node.pods().every((p) => !namespaces.has(p.namespace)));
  log(
    `  deleted the round's KMSDeployments${gone ? ', their Pods are gone' : ' (some Pods still stopping after 180 s)'}`,
  );
}

export async function runChainRound(stack: E2EStack, n: number, timeoutMs: number,
  log: (line: string) => void): Promise<ChainRound>
{
  const round: ChainRound = {
    n,
    objects: roundNamespaces(n).map((namespace) => ({ namespace, conditionTrueMs: {}, rotation: {} })),
    load: { start: loadavg()[0]!, end: 0, max: loadavg()[0]! },
    notes: [],
  };
  try {
    await measureCreate(stack, round, timeoutMs, log);
    if (round.objects.every((o) => o.conditionTrueMs.Ready !== undefined)) {
      await measureRenewal(stack, round, timeoutMs, log);
    }
    for (const object of round.objects) await putAndGet(stack, object);
    log(`  S3: ${round.objects.map((o) => `${o.namespace}: ${o.s3}`).join('; ')}`);
  } finally {
    round.load.end = loadavg()[0]!;
    await removeRound(stack, round, log);
  }
  return round;
}
