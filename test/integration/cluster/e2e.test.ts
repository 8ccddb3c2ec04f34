// End to end on the local test cluster (issue 19, steps 1-3): a persistent TLS Vault initialised and unsealed
// as the guide does, reached by Pods as `vault.vault.svc:8200` through the node agent's gateway forward;
// Kubernetes auth for the operator with the policy of docs/vault.md; the operator installed with
// `helm install`; examples/kmsdeployment-minimal.yaml applied unchanged with kubectl (it is written for the
// namespace `storage` and the address https://vault.vault.svc:8200); `kubectl wait --for=condition=Ready`;
// then an SSE-S3 object written to and read from the MinIO the operator made, through the Pod network, with
// the master key in Vault under the deployment's prefix. Needs the kes and minio programs.
import assert from 'node:assert/strict';
import { randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { clusterUnavailable } from '../../env/cluster.ts';
import {
  exposeVault, filesUnder, installOperator, prepareNamespace, s3Client, setUpVault, startE2EStack, kubectlWaitReady, VAULT_PORT, type E2EStack,
} from '../../env/e2e-stack.ts';
import { NODE_GATEWAY } from '../../env/node-agent/network.ts';
import { leftovers, repoRoot } from '../../env/process.ts';
import { missingProgram } from '../../env/programs.ts';

const NAMESPACE = 'storage'; // the namespace examples/kmsdeployment-minimal.yaml is written for
const NAME = 'minio-kms';
const PREFIX = 'kmsstack/storage/minio';
const KEY = 'minio-key-1';

// The Vault part runs without the programs; what needs KES and MinIO Pods skips with one line.
const programs = missingProgram('kes') || missingProgram('minio');

describe('end to end: a Vault-mode KMSDeployment on the local cluster', { skip: clusterUnavailable() }, () => {
  let stack: E2EStack;

  before(async () => {
    stack = await startE2EStack();
  });
  after(async () => {
    await stack?.stop({ keepLogs: Boolean(process.env.KMSSTACK_KEEP_LOGS) });
    assert.deepEqual(leftovers().processes, [], 'every process of the cluster, its Pods and Vault is gone');
  });

  it('Vault is reachable from the Pod network as vault.vault.svc, with a certificate for that name', async () => {
    await exposeVault(stack);
    const health = await stack.cluster.node.httpGet(`https://${NODE_GATEWAY}:${VAULT_PORT}/v1/sys/health`);
    assert.equal(health.status, 200, JSON.stringify(health));
    assert.equal((JSON.parse(health.body!) as { sealed?: boolean }).sealed, false);
    // The probe above does not verify TLS; the Pods (operator, KES) do, by this name.
    assert.equal(new X509Certificate(stack.vault.caPem!).checkHost('vault.vault.svc'), 'vault.vault.svc');
  });

  it('Vault is set up as the guide does: KV v1 at kv, Kubernetes auth for the operator with its policy', async () => {
    await setUpVault(stack);
    const mounts = await stack.vault.request('GET', 'sys/mounts');
    assert.deepEqual((mounts.body?.['kv/'] as { options?: unknown } | undefined)?.options, { version: '1' });
  });

  it('the operator installed with helm and the minimal example applied with kubectl become Ready', { skip: programs }, async () => {
    await prepareNamespace(stack, NAMESPACE);
    await installOperator(stack, [NAMESPACE]);
    await stack.cluster.kubectl(['apply', '-n', NAMESPACE, '-f', join(repoRoot, 'examples/kmsdeployment-minimal.yaml')]);
    await kubectlWaitReady(stack, NAMESPACE, NAME);
  });

  it('MinIO encrypts an SSE-S3 object with a master key that is in Vault under the deployment\'s prefix', { skip: programs }, async () => {
    const { s3, close } = await s3Client(stack, NAMESPACE, NAME);
    const body = randomBytes(256 * 1024);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'e2e' }));
      await s3.send(new PutObjectCommand({ Bucket: 'e2e', Key: 'sse-s3.bin', Body: body, ServerSideEncryption: 'AES256' }));
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'e2e', Key: 'sse-s3.bin' }));
      assert.equal(head.ServerSideEncryption, 'AES256', 'MinIO reports the object encrypted with SSE-S3');
      const read = await s3.send(new GetObjectCommand({ Bucket: 'e2e', Key: 'sse-s3.bin' }));
      assert.ok(Buffer.from(await read.Body!.transformToByteArray()).equals(body), 'the object reads back byte-identical');
    } finally {
      await close();
    }
    // MinIO's drives are the node agent's PVs: the object is there (so this looks in the right place), its
    // plaintext is not.
    const drives = filesUnder(join(stack.cluster.node.options.dir, 'volumes'));
    assert.ok(drives.some((path) => path.includes(join('e2e', 'sse-s3.bin'))), `the object is stored on a drive under ${stack.cluster.node.options.dir}/volumes`);
    const sample = body.subarray(100_000, 100_064);
    const leaked = drives.filter((path) => readFileSync(path).includes(sample));
    assert.deepEqual(leaked, [], 'no drive file holds the plaintext');
    const masterKey = await stack.vault.request('GET', `kv/${PREFIX}/${KEY}`);
    assert.equal(masterKey.status, 200, `the master key ${KEY} is in Vault at kv/${PREFIX}/${KEY}`);
  });
});
