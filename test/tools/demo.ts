// `npm run demo`: the operator's main job, shown on the local test cluster with no hand step. npm runs
// test/tools/setup.sh first (the Debian packages and the test servers, built once and reused), then this:
// a persistent Vault initialised and unsealed as the guide does, the cluster, the operator installed with
// `helm install`, examples/kmsdeployment-minimal.yaml applied, each condition printed as it turns True, an
// object uploaded with the S3 client and its encryption shown, then everything torn down. The set-up is the
// e2e suite's (test/env/e2e-stack.ts).
//
//   npm run demo                 the whole demo, then tear down
//   npm run demo -- --keep       leave it running (until Ctrl-C) and print how to explore it
//   npm run demo -- --check      only say what is missing (programs, root), start nothing
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { minioNames } from '../../src/minio/names.ts';
import { clusterUnavailable } from '../env/cluster.ts';
import {
  conditionsOf, exposeVault, installOperator, prepareNamespace, s3Client, setUpVault, startE2EStack, waitReady, type E2EStack,
} from '../env/e2e-stack.ts';
import { filesContaining, filesUnder } from '../env/drive-files.ts';
import { leftovers, repoRoot, testBinary } from '../env/process.ts';
import { PINNED, findProgram } from '../env/programs.ts';

const NAMESPACE = 'storage'; // the namespace the example is written for
const NAME = 'minio-kms';
const KEY = 'minio-key-1';
const PREFIX = 'kmsstack/storage/minio';
const EXAMPLE = 'examples/kmsdeployment-minimal.yaml';

const started = Date.now();
const say = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}`);

/** For each of kes and minio that cannot be found: what is missing and the ways to provide it. */
function missingProgramReport(): string[] {
  const lines: string[] = [];
  for (const [program, envVar] of [['kes', 'KMSSTACK_KES_BIN'], ['minio', 'KMSSTACK_MINIO_BIN']] as const) {
    if (findProgram(program)) continue;
    const explicit = process.env[envVar];
    lines.push(
      `missing program: ${program}${explicit ? ` (${envVar}=${explicit} is not an executable file)` : ''}. Provide the ${program} ${PINNED[program]} release binary`
        + ` (MinIO's published release binaries; the project never downloads or builds it) in one of: ${envVar}=/path/to/${program};`
        + ` a directory on PATH; ~/.cache/kmsstack/bin/${program} (or KMSSTACK_TESTBIN_DIR/${program}). See docs/testing.md.`,
    );
  }
  return lines;
}

function exitIfUnavailable(): void {
  const reason = clusterUnavailable();
  if (!reason) return;
  console.error(`demo: cannot start the local cluster: ${reason.replace(/^skipped: /, '')}`);
  process.exit(1);
}

async function showConditionsUntil(stack: E2EStack, stopAt: string, timeoutMs: number): Promise<void> {
  const printed = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const conditions = await conditionsOf(stack, NAMESPACE, NAME).catch(() => []);
    for (const c of conditions.filter((c) => c.status === 'True' && !printed.has(c.type))) {
      printed.add(c.type);
      say(`  condition ${c.type} = True (${c.reason ?? ''})`);
    }
    if (printed.has(stopAt)) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function uploadAndShow(stack: E2EStack): Promise<void> {
  const { s3, close } = await s3Client(stack, NAMESPACE, NAME);
  const body = Buffer.from(`hello from the kmsstack demo, ${new Date().toISOString()}\n`.repeat(64));
  let read: Buffer;
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'demo' }));
    await s3.send(new PutObjectCommand({ Bucket: 'demo', Key: 'hello.txt', Body: body, ServerSideEncryption: 'AES256' }));
    say(`uploaded s3://demo/hello.txt (${body.length} bytes) to ${minioNames(NAME).workload}-0 with SSE-S3 (@aws-sdk/client-s3)`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'demo', Key: 'hello.txt' }));
    say(`  HEAD: x-amz-server-side-encryption: ${head.ServerSideEncryption}; ETag ${head.ETag}; ${head.ContentLength} bytes`);
    read = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: 'demo', Key: 'hello.txt' }))).Body!.transformToByteArray());
    say(`  GET: ${read.equals(body) ? 'byte-identical to what was uploaded' : 'DIFFERS from what was uploaded'}`);
  } finally {
    await close();
  }
  // What MinIO wrote on its drives (the node agent's volumes): the object's metadata names the master key
  // it was sealed with, and the plaintext is nowhere.
  const drives = filesUnder(join(stack.cluster.node.options.dir, 'volumes'));
  const metaFiles = drives.filter((path) => path.endsWith(join('demo', 'hello.txt', 'xl.meta')));
  const namingKey = metaFiles.filter((path) => readFileSync(path).includes(KEY));
  const leaked = filesContaining(drives, body.subarray(0, 48));
  say(`  on the drives: ${metaFiles.length} xl.meta files for the object, ${namingKey.length} of them name the master key ${KEY}; plaintext found in ${leaked.length} files`);
  const keys = await stack.vault.request('LIST', `kv/${PREFIX}`);
  const names = (keys.body?.['data'] as { keys?: string[] } | undefined)?.keys ?? [];
  say(`  Vault kv/${PREFIX}: ${names.join(', ') || '(nothing)'} (the master keys KES keeps there; values not shown)`);
  if (!read.equals(body) || leaked.length > 0 || namingKey.length === 0) throw new Error('the object is not encrypted as expected');
}

async function keepRunning(stack: E2EStack, withMinio: boolean): Promise<void> {
  const kubectl = testBinary('kubectl');
  const lines = [
    '',
    'The demo is running. In another shell:',
    `  export KUBECONFIG=${stack.cluster.kubeconfigPath}`,
    `  alias kubectl=${kubectl}`,
    `  kubectl get kmsd -n ${NAMESPACE}`,
    `  kubectl describe kmsd ${NAME} -n ${NAMESPACE}      # conditions and Events`,
    '  kubectl get pods -A -o wide                        # the operator, KES and MinIO Pods',
    `  kubectl get secrets -n ${NAMESPACE}                 # certificates, AppRole, MinIO root credentials`,
    `Vault: ${stack.vault.address} (its root token stays inside the demo process)`,
  ];
  let forward: Awaited<ReturnType<typeof s3Client>> | undefined;
  if (withMinio) {
    forward = await s3Client(stack, NAMESPACE, NAME);
    lines.push(`MinIO (S3): ${forward.url} (its CA: ConfigMap ${minioNames(NAME).caConfigMap}) — root credentials in the Secret ${minioNames(NAME).rootSecret} (namespace ${NAMESPACE})`);
  }
  lines.push('Press Ctrl-C to tear everything down.');
  console.log(lines.join('\n'));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await forward?.close();
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => !['--keep', '--check'].includes(a));
  if (unknown.length > 0) {
    console.error(`demo: unknown argument ${unknown.join(' ')} (use --keep or --check)`);
    process.exit(2);
  }
  const missing = missingProgramReport();
  for (const line of missing) console.log(`demo: ${line}`);
  if (args.includes('--check')) {
    const reason = clusterUnavailable();
    if (reason) console.log(`demo: cannot start the local cluster: ${reason.replace(/^skipped: /, '')}`);
    if (missing.length === 0 && !reason) console.log('demo: everything it needs is here');
    process.exit(missing.length > 0 || reason ? 1 : 0);
  }
  exitIfUnavailable();
  if (missing.length > 0) say('the demo runs what it can without them: Vault, the cluster, the operator, the example up to VaultConfigured');

  say('building the operator (npm run build), starting a persistent Vault and the local cluster ...');
  const stack = await startE2EStack();
  let failed = false;
  try {
    say(`cluster up: kube-apiserver ${stack.cluster.server}, controller-manager, scheduler, node agent`);
    await exposeVault(stack);
    await setUpVault(stack);
    say(`Vault ${stack.vault.address}: initialised (3 key shares, threshold 2) and unsealed; KV v1 at kv; Kubernetes auth role kmsstack-operator`);
    await prepareNamespace(stack, NAMESPACE);
    await installOperator(stack, [NAMESPACE]);
    say('helm install kmsstack-operator charts/kmsstack-operator -n kmsstack-system (watching namespace storage)');
    await stack.cluster.kubectl(['apply', '-n', NAMESPACE, '-f', join(repoRoot, EXAMPLE)]);
    say(`kubectl apply -n ${NAMESPACE} -f ${EXAMPLE}`);
    if (missing.length > 0) {
      await showConditionsUntil(stack, 'VaultConfigured', 120_000);
      say('stopping here: KES and MinIO Pods cannot run without the programs named above');
    } else {
      await waitReady(stack, NAMESPACE, NAME, { onTrue: (c) => say(`  condition ${c.type} = True (${c.reason ?? ''})`) });
      say(`kmsd/${NAME} is Ready`);
      await uploadAndShow(stack);
    }
    if (args.includes('--keep')) await keepRunning(stack, missing.length === 0);
  } catch (err) {
    failed = true;
    console.error(`demo: FAILED: ${(err as Error).message}`);
  } finally {
    say('tearing down: node agent (Pods), controllers, API server, etcd, Vault');
    await stack.stop({ keepLogs: failed });
    const left = leftovers().processes;
    say(left.length === 0 ? 'torn down: no process left' : `left running: ${left.join(', ')}`);
  }
  if (missing.length > 0) for (const line of missing) console.log(`demo: incomplete, ${line}`);
  process.exit(failed || missing.length > 0 ? 1 : 0);
}

await main();
