// The end-to-end set-up shared by the e2e suite (test/integration/cluster/e2e*.test.ts) and `npm run demo`
// (test/tools/demo.ts): a persistent TLS Vault initialised and unsealed as the guide does, reached by Pods as
// `vault.vault.svc:8200` through the node agent's gateway forward; the local cluster; Vault set up as
// docs/vault.md says (KV mounts, the operator policy, a token reviewer, Kubernetes auth for the operator's
// ServiceAccount); the operator installed with `helm install`; and what a user does next: a namespace with the
// `vault-ca` Secret, `kubectl apply`, waiting for Ready, and an S3 client to the MinIO the operator made.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import * as yaml from 'js-yaml';
import { MINIO_S3_PORT, ROOT_SECRET_KEYS, minioNames } from '../../src/minio/names.ts';
import { renderOperatorPolicy } from '../../src/vault/operator-policy.ts';
import { chartDir, helm, releaseName, releaseNamespace } from '../unit/packaging/helm.ts';
import { gatewayService, serviceForward, startCluster, type Cluster } from './cluster.ts';
import { NODE_GATEWAY } from './node-agent/network.ts';
import { repoRoot } from './process.ts';
import { startVault, type TestVault } from './vault.ts';

const execFileAsync = promisify(execFile);
export type Condition = { type: string; status: string; reason?: string; message?: string };
export type KvMount = { mountPath: string; version: 'v1' | 'v2' };

export const VAULT_PORT = 8200;
/** The address examples/kmsdeployment-minimal.yaml is written for. */
export const VAULT_ADDRESS = `https://vault.vault.svc:${VAULT_PORT}`;
/** The Kubernetes auth role of the operator, as the examples name it. */
export const OPERATOR_VAULT_ROLE = 'kmsstack-operator';

export interface E2EStack {
  cluster: Cluster;
  vault: TestVault;
  /** `kubectl ... -o json`, parsed. */
  json(args: string[]): Promise<Record<string, unknown>>;
  /** Where to look when something went wrong: the operator's, the node agent's and Vault's log files. */
  diagnostics(): string;
  stop(options?: { keepLogs?: boolean }): Promise<void>;
}

/** Builds the operator (its Pod runs dist/main.js of this checkout), then starts Vault and the cluster. */
export async function startE2EStack(): Promise<E2EStack> {
  await execFileAsync('npm', ['run', 'build'], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
  // The certificate names what the Pods use; Vault itself listens on loopback only.
  const vault = await startVault({ persistent: true, extraNames: ['DNS:vault.vault.svc', `IP:${NODE_GATEWAY}`] });
  let cluster: Cluster;
  try {
    cluster = await startCluster({ installCRDs: false, node: { gatewayForwards: [{ port: VAULT_PORT, upstreamPort: vault.port }] } });
  } catch (err) {
    await vault.stop();
    throw err;
  }
  const operatorLog = () => {
    const pod = cluster.node.pods().find((p) => p.namespace === releaseNamespace);
    return pod ? cluster.node.logFile(pod.namespace, pod.name, 'operator') : undefined;
  };
  return {
    cluster,
    vault,
    json: async (args) => JSON.parse((await cluster.kubectl([...args, '-o', 'json'])).stdout) as Record<string, unknown>,
    diagnostics: () => `operator log: ${operatorLog()}; node agent log: ${cluster.clusterLogs.nodeAgent}; Vault log: ${vault.logFile}`,
    async stop(options = {}) {
      await cluster.stop(options);
      await vault.stop();
    },
  };
}

/** The Service `vault.vault` on the gateway, so Pods reach the test's Vault as https://vault.vault.svc:8200. */
export async function exposeVault(stack: E2EStack): Promise<void> {
  await stack.cluster.kubectl(['create', 'namespace', 'vault']);
  await gatewayService(stack.cluster, 'vault', 'vault', VAULT_PORT);
}

/**
 * Vault set up as docs/vault.md says: the KV mounts, the operator policy for them, a token reviewer with
 * `system:auth-delegator`, and the Kubernetes auth role bound to the chart's ServiceAccount (audience `vault`).
 */
export async function setUpVault(stack: E2EStack, kvMounts: KvMount[] = [{ mountPath: 'kv', version: 'v1' }]): Promise<void> {
  const { cluster, vault } = stack;
  for (const kv of kvMounts) {
    const mount = await vault.request('POST', `sys/mounts/${kv.mountPath}`, { type: 'kv', options: { version: kv.version.slice(1) } });
    if (mount.status >= 300) throw new Error(`mounting KV ${kv.version} at ${kv.mountPath}: ${mount.status} ${JSON.stringify(mount.body)}`);
  }
  await vault.writePolicy(OPERATOR_VAULT_ROLE, renderOperatorPolicy({
    kvMounts, appRoleMountPath: 'approle', allowMountCreation: false, instance: 'default', legacyNames: false,
  }));
  await cluster.kubectl(['create', 'serviceaccount', 'token-reviewer', '-n', 'vault']);
  await cluster.kubectl(['create', 'clusterrolebinding', 'vault-token-reviewer', '--clusterrole=system:auth-delegator', '--serviceaccount=vault:token-reviewer']);
  await vault.enableKubernetesAuth({
    kubernetesHost: cluster.server, kubernetesCA: cluster.caPem,
    tokenReviewerJWT: await cluster.mintServiceAccountToken('vault', 'token-reviewer', { expirationSeconds: 7200 }),
    role: OPERATOR_VAULT_ROLE, boundServiceAccountNames: [releaseName], boundServiceAccountNamespaces: [releaseNamespace],
    policies: [OPERATOR_VAULT_ROLE], tokenTTL: '1h', audience: 'vault',
  });
}

/** A namespace for KMSDeployments, with Vault's CA in the Secret `vault-ca` the examples name. */
export async function prepareNamespace(stack: E2EStack, namespace: string): Promise<void> {
  await stack.cluster.kubectl(['create', 'namespace', namespace]);
  await stack.cluster.kubectl(['create', 'secret', 'generic', 'vault-ca', '-n', namespace, `--from-literal=ca.crt=${stack.vault.caPem}`]);
}

/**
 * `helm install` of the chart, watching `watchNamespaces` and allowed to contact only the test's Vault;
 * `values` are more `--set` values (e.g. `operator.resyncPeriod=20s`).
 */
/**
 * A cluster with Vault set up as the guide does, the operator installed with helm (`values` as `--set`), and
 * examples/kmsdeployment-minimal.yaml applied in `namespace` (`minio` merged into its spec.minio first, e.g. a
 * layout); `beforeReady` runs between the apply and the wait for kmsd/`name` to be Ready (e.g. a patch of the spec).
 */
export async function startMinimalExample(
  namespace: string,
  name: string,
  options: { values?: string[]; minio?: Record<string, unknown>; beforeReady?: (stack: E2EStack) => Promise<void> } = {},
): Promise<E2EStack> {
  const stack = await startE2EStack();
  await exposeVault(stack);
  await setUpVault(stack);
  await prepareNamespace(stack, namespace);
  await installOperator(stack, [namespace], options.values);
  const example = yaml.load(readFileSync(join(repoRoot, 'examples/kmsdeployment-minimal.yaml'), 'utf8')) as { spec: { minio: Record<string, unknown> } };
  example.spec.minio = { ...example.spec.minio, ...options.minio };
  await stack.cluster.kubectl(['apply', '-n', namespace, '-f', '-'], JSON.stringify(example));
  await options.beforeReady?.(stack);
  await kubectlWaitReady(stack, namespace, name);
  return stack;
}

export async function installOperator(stack: E2EStack, watchNamespaces: string[], values: string[] = []): Promise<void> {
  const install = await helm(['install', releaseName, chartDir, '-n', releaseNamespace, '--create-namespace', '--kubeconfig', stack.cluster.kubeconfigPath,
    '--set', `watchNamespaces={${watchNamespaces.join(',')}}`, '--set', `operator.vaultAddresses={${VAULT_ADDRESS}}`, ...values.flatMap((v) => ['--set', v]), '--wait=false']);
  if (install.code !== 0) throw new Error(`helm install failed: ${install.stderr}`);
}

export async function conditionsOf(stack: E2EStack, namespace: string, name: string): Promise<Condition[]> {
  const kmsd = await stack.json(['get', 'kmsd', name, '-n', namespace]);
  return (kmsd.status as { conditions?: Condition[] } | undefined)?.conditions ?? [];
}

/** `kubectl wait --for=condition=Ready` as a user runs it; on timeout the error names the conditions and the log files. */
export async function kubectlWaitReady(stack: E2EStack, namespace: string, name: string, timeout = '240s'): Promise<void> {
  try {
    await stack.cluster.kubectl(['wait', '--for=condition=Ready', `kmsd/${name}`, '-n', namespace, `--timeout=${timeout}`]);
  } catch (err) {
    const conditions = await conditionsOf(stack, namespace, name).catch(() => []);
    throw new Error(`${(err as Error).message}\nconditions: ${JSON.stringify(conditions)}\n${stack.diagnostics()}`);
  }
}

/**
 * Waits until the KMSDeployment is Ready, calling `onTrue` once for each condition as it turns True (the
 * demo prints them); on timeout the error names the conditions and the log files.
 */
export async function waitReady(stack: E2EStack, namespace: string, name: string, options: { timeoutMs?: number; onTrue?: (c: Condition) => void } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 240_000);
  const seen = new Set<string>();
  let conditions: Condition[] = [];
  while (Date.now() < deadline) {
    conditions = await conditionsOf(stack, namespace, name).catch(() => []);
    for (const condition of conditions) {
      if (condition.status === 'True' && !seen.has(condition.type)) {
        seen.add(condition.type);
        options.onTrue?.(condition);
      }
    }
    if (conditions.some((c) => c.type === 'Ready' && c.status === 'True')) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`kmsd/${name} in ${namespace} is not Ready\nconditions: ${JSON.stringify(conditions)}\n${stack.diagnostics()}`);
}

/**
 * How an S3 client of the tests trusts MinIO: the CA bundle of the ConfigMap named in status.minio.caConfigMap
 * read once (the default), or read again every `caRefreshMs`, as a client that mounts the ConfigMap sees it
 * change, each new connection verified with the bundle as it was last read.
 */
export interface S3ClientOptions {
  caRefreshMs?: number;
}

/** The trust bundle a client verifies MinIO's S3 certificate with, re-read while `refreshMs` is set. */
async function minioTrust(stack: E2EStack, namespace: string, name: string, refreshMs?: number): Promise<{ current(): { ca: string; servername: string } | undefined; changes(): number; stop(): void }> {
  const read = async () => {
    const { status } = await stack.json(['get', 'kmsdeployment', name, '-n', namespace]) as { status?: { minio?: { endpoint?: string; caConfigMap?: string } } };
    if (!status?.minio?.caConfigMap) return undefined;
    const { data } = await stack.json(['get', 'configmap', status.minio.caConfigMap, '-n', namespace]) as { data: Record<string, string> };
    return { ca: data['ca.crt'] ?? '', servername: new URL(status.minio.endpoint ?? '').hostname };
  };
  let trust = await read();
  let changes = 0;
  const timer = refreshMs && trust
    ? setInterval(() => {
        read().then((next) => {
          if (!next) return;
          if (next.ca !== trust?.ca) changes++;
          trust = next;
        }, () => undefined); // the API server busy for a moment: keep the last bundle, as a mounted file would
      }, refreshMs)
    : undefined;
  return { current: () => trust, changes: () => changes, stop: () => clearInterval(timer) };
}

/** An https Agent that verifies each new connection with the trust bundle as it is at that moment. */
class CurrentTrustAgent extends HttpsAgent {
  constructor(private readonly trust: () => { ca: string; servername: string } | undefined, keepAlive: boolean) {
    // No TLS session resumption: each handshake sees MinIO's certificate and checks it against the current bundle.
    super({ keepAlive, maxCachedSessions: 0 });
  }

  override createConnection(options: Parameters<HttpsAgent['createConnection']>[0], callback?: Parameters<HttpsAgent['createConnection']>[1]) {
    return super.createConnection({ ...options, ...this.trust() }, callback);
  }
}

/**
 * An S3 client as MinIO's root user to the deployment's MinIO on the loopback `port`: through a port-forward
 * into the Pod of server `to` (the node agent routes no ClusterIP), or with `to: 'service'` through the
 * MinIO Service's ready endpoints as kube-proxy would route (serviceForward), one new connection per request
 * so that each request follows the endpoints as they are then (`reroutes` lists the connections a stopping
 * Pod refused). The SDK retries nothing: every request MinIO failed is seen by the test. When MinIO serves
 * TLS (the default) the client speaks HTTPS and verifies MinIO's certificate as an in-cluster client would:
 * with the CA bundle of the ConfigMap that status.minio.caConfigMap names, for the host of
 * status.minio.endpoint (re-read every `options.caRefreshMs` when set, S3ClientOptions). `close` ends both.
 */
export async function s3Client(stack: E2EStack, namespace: string, name: string, to: number | 'service' = 0, options: S3ClientOptions = {}): Promise<{ s3: S3Client; port: number; url: string; reroutes: string[]; caChanges(): number; close(): Promise<void> }> {
  const names = minioNames(name);
  const secret = await stack.json(['get', 'secret', names.rootSecret, '-n', namespace]) as { data: Record<string, string> };
  const decode = (key: string) => Buffer.from(secret.data[key]!, 'base64').toString('utf8');
  const trust = await minioTrust(stack, namespace, name, options.caRefreshMs);
  let forward: { port: number; reroutes?: string[]; close(): Promise<void> };
  if (to === 'service') {
    forward = await serviceForward(stack.cluster, namespace, names.workload, MINIO_S3_PORT);
  } else {
    const pod = await stack.json(['get', 'pod', `${names.workload}-${to}`, '-n', namespace]) as { status: { podIP: string } };
    forward = await stack.cluster.node.network.portForward(pod.status.podIP, MINIO_S3_PORT);
  }
  const url = `${trust.current() ? 'https' : 'http'}://127.0.0.1:${forward.port}`;
  const s3 = new S3Client({
    endpoint: url, region: 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: decode(ROOT_SECRET_KEYS.user), secretAccessKey: decode(ROOT_SECRET_KEYS.password) },
    maxAttempts: 1,
    // rejectUnauthorized stays on: a certificate that the published CA did not sign, or that does not name the Service, fails every request.
    // Through the Service, one new connection per request, so that each follows the endpoints as they are then.
    requestHandler: {
      httpAgent: new HttpAgent({ keepAlive: to !== 'service' }),
      httpsAgent: new CurrentTrustAgent(trust.current, to !== 'service'),
    },
  });
  return {
    s3,
    port: forward.port,
    url,
    reroutes: forward.reroutes ?? [],
    caChanges: trust.changes,
    async close() {
      trust.stop();
      s3.destroy();
      await forward.close();
    },
  };
}

