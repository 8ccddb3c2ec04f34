// End to end on the local test cluster (issue 19, steps 1-3): a persistent TLS Vault initialised and unsealed
// as the guide does, reached by Pods as `vault.vault.svc:8200` through the node agent's gateway forward;
// Kubernetes auth for the operator with the policy of docs/vault.md; the operator installed with
// `helm install`; examples/kmsdeployment-minimal.yaml applied unchanged with kubectl (it is written for the
// namespace `storage` and the address https://vault.vault.svc:8200); `kubectl wait --for=condition=Ready`;
// then an SSE-S3 object written to and read from the MinIO the operator made, through the Pod network, with
// the master key in Vault under the deployment's prefix. Needs the kes and minio programs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ROOT_SECRET_KEYS, minioNames } from '../../../src/minio/names.ts';
import { renderOperatorPolicy } from '../../../src/vault/operator-policy.ts';
import { clusterUnavailable, gatewayService, startCluster, type Cluster } from '../../env/cluster.ts';
import { NODE_GATEWAY } from '../../env/node-agent/network.ts';
import { leftovers, repoRoot } from '../../env/process.ts';
import { missingProgram } from '../../env/programs.ts';
import { startVault, type TestVault } from '../../env/vault.ts';
import { chartDir, helm, releaseName, releaseNamespace } from '../../unit/packaging/helm.ts';

const execFileAsync = promisify(execFile);
type Condition = { type: string; status: string; reason?: string; message?: string };

const VAULT_PORT = 8200;
const VAULT_ADDRESS = `https://vault.vault.svc:${VAULT_PORT}`;
const NAMESPACE = 'storage'; // the namespace examples/kmsdeployment-minimal.yaml is written for
const NAME = 'minio-kms';
const PREFIX = 'kmsstack/storage/minio';
const KEY = 'minio-key-1';

// The Vault part runs without the programs; what needs KES and MinIO Pods skips with one line.
const programs = missingProgram('kes') || missingProgram('minio');

/** Every file under `dir` (the node agent's PV directories: MinIO's drives). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((entry) => join(dir, entry)).filter((path) => statSync(path).isFile());
}

describe('end to end: a Vault-mode KMSDeployment on the local cluster', { skip: clusterUnavailable() }, () => {
  let cluster: Cluster;
  let vault: TestVault;
  const json = async (args: string[]) => JSON.parse((await cluster.kubectl([...args, '-o', 'json'])).stdout) as Record<string, unknown>;
  const operatorLog = () => {
    const pod = cluster.node.pods().find((p) => p.namespace === releaseNamespace);
    return pod ? cluster.node.logFile(pod.namespace, pod.name, 'operator') : undefined;
  };
  const diagnostics = () => `operator log: ${operatorLog()}; node agent log: ${cluster.clusterLogs.nodeAgent}; Vault log: ${vault.logFile}`;

  before(async () => {
    // The operator Pod runs dist/main.js of this checkout.
    await execFileAsync('npm', ['run', 'build'], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
    // The certificate names what the Pods use; Vault itself listens on loopback only.
    vault = await startVault({ persistent: true, extraNames: ['DNS:vault.vault.svc', `IP:${NODE_GATEWAY}`] });
    cluster = await startCluster({ installCRDs: false, node: { gatewayForwards: [{ port: VAULT_PORT, upstreamPort: vault.port }] } });
  });
  after(async () => {
    await cluster?.stop({ keepLogs: Boolean(process.env.KMSSTACK_KEEP_LOGS) });
    await vault?.stop();
    assert.deepEqual(leftovers().processes, [], 'every process of the cluster, its Pods and Vault is gone');
  });

  it('Vault is reachable from the Pod network as vault.vault.svc, with a certificate for that name', async () => {
    await cluster.kubectl(['create', 'namespace', 'vault']);
    await gatewayService(cluster, 'vault', 'vault', VAULT_PORT);
    const health = await cluster.node.httpGet(`https://${NODE_GATEWAY}:${VAULT_PORT}/v1/sys/health`);
    assert.equal(health.status, 200, JSON.stringify(health));
    assert.equal((JSON.parse(health.body!) as { sealed?: boolean }).sealed, false);
    // The probe above does not verify TLS; the Pods (operator, KES) do, by this name.
    assert.equal(new X509Certificate(vault.caPem!).checkHost('vault.vault.svc'), 'vault.vault.svc');
  });

  it('Vault is set up as the guide does: KV v1 at kv, Kubernetes auth for the operator with its policy', async () => {
    const mount = await vault.request('POST', 'sys/mounts/kv', { type: 'kv', options: { version: '1' } });
    assert.ok(mount.status < 300, JSON.stringify(mount.body));
    await vault.writePolicy('kmsstack-operator', renderOperatorPolicy({
      kvMounts: [{ mountPath: 'kv', version: 'v1' }], appRoleMountPath: 'approle', allowMountCreation: false, instance: 'default', legacyNames: false,
    }));
    // Vault's token reviewer (system:auth-delegator), as docs/vault.md sets it up.
    await cluster.kubectl(['create', 'serviceaccount', 'token-reviewer', '-n', 'vault']);
    await cluster.kubectl(['create', 'clusterrolebinding', 'vault-token-reviewer', '--clusterrole=system:auth-delegator', '--serviceaccount=vault:token-reviewer']);
    await vault.enableKubernetesAuth({
      kubernetesHost: cluster.server, kubernetesCA: cluster.caPem,
      tokenReviewerJWT: await cluster.mintServiceAccountToken('vault', 'token-reviewer', { expirationSeconds: 7200 }),
      role: 'kmsstack-operator', boundServiceAccountNames: [releaseName], boundServiceAccountNamespaces: [releaseNamespace],
      policies: ['kmsstack-operator'], tokenTTL: '1h', audience: 'vault',
    });
  });

  it('the operator installed with helm and the minimal example applied with kubectl become Ready', { skip: programs }, async () => {
    await cluster.kubectl(['create', 'namespace', NAMESPACE]);
    await cluster.kubectl(['create', 'secret', 'generic', 'vault-ca', '-n', NAMESPACE, `--from-literal=ca.crt=${vault.caPem}`]);
    const install = await helm(['install', releaseName, chartDir, '-n', releaseNamespace, '--create-namespace', '--kubeconfig', cluster.kubeconfigPath,
      '--set', `watchNamespaces={${NAMESPACE}}`, '--set', `operator.vaultAddresses={${VAULT_ADDRESS}}`, '--wait=false']);
    assert.equal(install.code, 0, install.stderr);
    await cluster.kubectl(['apply', '-n', NAMESPACE, '-f', join(repoRoot, 'examples/kmsdeployment-minimal.yaml')]);
    try {
      await cluster.kubectl(['wait', '--for=condition=Ready', `kmsd/${NAME}`, '-n', NAMESPACE, '--timeout=240s']);
    } catch (err) {
      const conditions = ((await json(['get', 'kmsd', NAME, '-n', NAMESPACE])).status as { conditions?: Condition[] } | undefined)?.conditions;
      throw new Error(`${(err as Error).message}\nconditions: ${JSON.stringify(conditions)}\n${diagnostics()}`);
    }
  });

  it('MinIO encrypts an SSE-S3 object with a master key that is in Vault under the deployment\'s prefix', { skip: programs }, async () => {
    const secret = await json(['get', 'secret', minioNames(NAME).rootSecret, '-n', NAMESPACE]) as { data: Record<string, string> };
    const decode = (key: string) => Buffer.from(secret.data[key]!, 'base64').toString('utf8');
    const pod = await json(['get', 'pod', `${minioNames(NAME).workload}-0`, '-n', NAMESPACE]) as { status: { podIP: string } };
    const forward = await cluster.node.network.portForward(pod.status.podIP, 9000);
    const s3 = new S3Client({
      endpoint: `http://127.0.0.1:${forward.port}`, region: 'us-east-1', forcePathStyle: true,
      credentials: { accessKeyId: decode(ROOT_SECRET_KEYS.user), secretAccessKey: decode(ROOT_SECRET_KEYS.password) },
    });
    const body = randomBytes(256 * 1024);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'e2e' }));
      await s3.send(new PutObjectCommand({ Bucket: 'e2e', Key: 'sse-s3.bin', Body: body, ServerSideEncryption: 'AES256' }));
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'e2e', Key: 'sse-s3.bin' }));
      assert.equal(head.ServerSideEncryption, 'AES256', 'MinIO reports the object encrypted with SSE-S3');
      const read = await s3.send(new GetObjectCommand({ Bucket: 'e2e', Key: 'sse-s3.bin' }));
      assert.ok(Buffer.from(await read.Body!.transformToByteArray()).equals(body), 'the object reads back byte-identical');
    } finally {
      s3.destroy();
      await forward.close();
    }
    // MinIO's drives are the node agent's PVs: the object is there (so this looks in the right place), its
    // plaintext is not.
    const drives = filesUnder(join(cluster.node.options.dir, 'volumes'));
    assert.ok(drives.some((path) => path.includes(join('e2e', 'sse-s3.bin'))), `the object is stored on a drive under ${cluster.node.options.dir}/volumes`);
    const sample = body.subarray(100_000, 100_064);
    const leaked = drives.filter((path) => readFileSync(path).includes(sample));
    assert.deepEqual(leaked, [], 'no drive file holds the plaintext');
    const masterKey = await vault.request('GET', `kv/${PREFIX}/${KEY}`);
    assert.equal(masterKey.status, 200, `the master key ${KEY} is in Vault at kv/${PREFIX}/${KEY}`);
  });
});
