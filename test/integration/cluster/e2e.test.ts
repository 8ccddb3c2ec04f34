// End to end on the local test cluster (issue 19): a persistent TLS Vault initialised and unsealed as the guide
// does, reached by Pods as `vault.vault.svc:8200` through the node agent's gateway forward; Kubernetes auth for
// the operator with the policy of docs/vault.md; the operator installed with `helm install`;
// examples/kmsdeployment-minimal.yaml applied unchanged with kubectl (it is written for the namespace `storage`
// and the address https://vault.vault.svc:8200); `kubectl wait --for=condition=Ready`; an SSE-S3 object through
// the Pod network with the master key in Vault under the deployment's prefix. Then a second tenant (KV v2, 4
// MinIO servers x 2 drives, auto-encryption), the isolation of the two, the static-key example, and the
// deletion of a tenant (rotations and faults under load: e2e-rotations.test.ts, e2e-faults.test.ts). The set-up is test/env/e2e-stack.ts (shared with `npm run demo`); the steps
// that need the kes and minio programs skip with one line without them (docs/testing.md).
import assert from 'node:assert/strict';
import { randomBytes, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { minioNames } from '../../../src/minio/names.ts';
import { vaultObjectName } from '../../../src/vault/names.ts';
import { clusterUnavailable, stopWithoutLeftovers } from '../../env/cluster.ts';
import { appRoleToken, kesCallAs, podProcesses } from '../../env/e2e-checks.ts';
import {
  exposeVault, installOperator, prepareNamespace, s3Client, setUpVault, startE2EStack, kubectlWaitReady, OPERATOR_VAULT_ROLE, VAULT_ADDRESS, VAULT_PORT, type E2EStack,
} from '../../env/e2e-stack.ts';
import { filesContaining, filesUnder } from '../../env/drive-files.ts';
import { NODE_GATEWAY } from '../../env/node-agent/network.ts';
import { isAlive, repoRoot, waitFor } from '../../env/process.ts';
import { missingProgram } from '../../env/programs.ts';

const NAMESPACE = 'storage'; // the namespace examples/kmsdeployment-minimal.yaml is written for
const NAME = 'minio-kms';
const PREFIX = 'kmsstack/storage/minio';
const KEY = 'minio-key-1';
const A = { namespace: NAMESPACE, name: NAME };
// The second tenant: KV v2, 4 MinIO servers with 2 drives each, auto-encryption, Retain (the default).
const B = { namespace: 'tenant-b', name: 'tenant-b' };
const B_PREFIX = 'kmsstack/tenant-b/minio';
const B_KEY = 'tenant-b-key-1';
const tenantB = {
  apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment', metadata: B,
  spec: {
    vault: {
      address: VAULT_ADDRESS, tls: { caSecretRef: { name: 'vault-ca' } }, auth: { kubernetes: { role: OPERATOR_VAULT_ROLE } },
      kv: { mountPath: 'kv2', version: 'v2', prefix: B_PREFIX },
    },
    kes: { replicas: 1, keys: [{ name: B_KEY }] },
    minio: { replicas: 4, drivesPerServer: 2, storage: { size: '1Gi' }, keyName: B_KEY, autoEncryption: true },
  },
};

// The Vault part runs without the programs; what needs KES and MinIO Pods skips with one line.
const programs = missingProgram('kes') || missingProgram('minio');

describe('end to end: a Vault-mode KMSDeployment on the local cluster', { skip: clusterUnavailable() }, () => {
  let stack: E2EStack;

  before(async () => {
    stack = await startE2EStack();
  });
  after(async () => {
    await stopWithoutLeftovers(stack);
  });

  it('Vault is reachable from the Pod network as vault.vault.svc, with a certificate for that name', async () => {
    await exposeVault(stack);
    const health = await stack.cluster.node.httpGet(`https://${NODE_GATEWAY}:${VAULT_PORT}/v1/sys/health`);
    assert.equal(health.status, 200, JSON.stringify(health));
    assert.equal((JSON.parse(health.body!) as { sealed?: boolean }).sealed, false);
    // The probe above does not verify TLS; the Pods (operator, KES) do, by this name.
    assert.equal(new X509Certificate(stack.vault.caPem!).checkHost('vault.vault.svc'), 'vault.vault.svc');
  });

  it('Vault is set up as the guide does: KV v1 at kv (and v2 at kv2), Kubernetes auth for the operator with its policy', async () => {
    await setUpVault(stack, [{ mountPath: 'kv', version: 'v1' }, { mountPath: 'kv2', version: 'v2' }]);
    const mounts = await stack.vault.request('GET', 'sys/mounts');
    assert.deepEqual((mounts.body?.['kv/'] as { options?: unknown } | undefined)?.options, { version: '1' });
  });

  it('the operator installed with helm and the minimal example applied with kubectl become Ready', { skip: programs }, async () => {
    // The chart grants the operator its rights in each watched namespace: both tenants' exist first.
    await prepareNamespace(stack, NAMESPACE);
    await prepareNamespace(stack, B.namespace);
    await installOperator(stack, [NAMESPACE, B.namespace]);
    await stack.cluster.kubectl(['apply', '-n', NAMESPACE, '-f', join(repoRoot, 'examples/kmsdeployment-minimal.yaml')]);
    await kubectlWaitReady(stack, NAMESPACE, NAME);
  });

  /**
   * Puts a 256 KiB object (with the SSE-S3 header or without any), checks it is reported encrypted and reads
   * back byte-identical, and returns the drive files of the object after checking that none of MinIO's drives
   * (the node agent's PVs) holds its plaintext.
   */
  async function putEncrypted(ref: { namespace: string; name: string }, bucket: string, sse: boolean, expect: { header: string | RegExp; keyId?: string }): Promise<string[]> {
    const { s3, close } = await s3Client(stack, ref.namespace, ref.name);
    const body = randomBytes(256 * 1024);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'object.bin', Body: body, ...(sse ? { ServerSideEncryption: 'AES256' as const } : {}) }));
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'object.bin' }));
      assert.match(head.ServerSideEncryption ?? '', typeof expect.header === 'string' ? new RegExp(`^${expect.header}$`) : expect.header, 'MinIO reports the object encrypted');
      // MinIO names the key as an ARN, arn:aws:kms:<key>.
      if (expect.keyId) assert.ok(head.SSEKMSKeyId === expect.keyId || head.SSEKMSKeyId?.endsWith(`:${expect.keyId}`), `under the key ${expect.keyId}: ${head.SSEKMSKeyId}`);
      const read = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'object.bin' }));
      assert.ok(Buffer.from(await read.Body!.transformToByteArray()).equals(body), 'the object reads back byte-identical');
    } finally {
      await close();
    }
    // The object's files are found (so this looks in the right place); its plaintext is not.
    const drives = filesUnder(join(stack.cluster.node.options.dir, 'volumes'));
    const objectFiles = drives.filter((path) => path.includes(join(bucket, 'object.bin')));
    assert.ok(objectFiles.length > 0, `the object is stored on a drive under ${stack.cluster.node.options.dir}/volumes`);
    const sample = body.subarray(100_000, 100_064);
    assert.deepEqual(filesContaining(drives, sample), [], 'no drive file holds the plaintext');
    return objectFiles;
  }

  it('MinIO encrypts an SSE-S3 object with a master key that is in Vault under the deployment\'s prefix', { skip: programs }, async () => {
    await putEncrypted(A, 'e2e', true, { header: 'AES256' });
    const masterKey = await stack.vault.request('GET', `kv/${PREFIX}/${KEY}`);
    assert.equal(masterKey.status, 200, `the master key ${KEY} is in Vault at kv/${PREFIX}/${KEY}`);
  });

  it('a second tenant on KV v2, with 4 MinIO servers of 2 drives each and auto-encryption, becomes Ready', { skip: programs }, async () => {
    await stack.cluster.kubectl(['apply', '-f', '-'], JSON.stringify(tenantB));
    await kubectlWaitReady(stack, B.namespace, B.name);
    const kmsd = await stack.json(['get', 'kmsd', B.name, '-n', B.namespace]) as { status: { vault?: { kvVersion?: string } } };
    assert.equal(kmsd.status.vault?.kvVersion, 'v2');
    const minio = await stack.json(['get', 'statefulset', minioNames(B.name).workload, '-n', B.namespace]) as { status: { readyReplicas?: number } };
    assert.equal(minio.status.readyReplicas, 4);
    const claims = await stack.json(['get', 'pvc', '-n', B.namespace]) as { items: { status: { phase: string } }[] };
    assert.deepEqual(claims.items.map((claim) => claim.status.phase), Array(8).fill('Bound'), '4 servers x 2 drives, each a bound claim');
    const masterKey = await stack.vault.request('GET', `kv2/data/${B_PREFIX}/${B_KEY}`);
    assert.equal(masterKey.status, 200, `the master key ${B_KEY} is in Vault's KV v2 at kv2/data/${B_PREFIX}/${B_KEY}`);
  });

  it('auto-encryption: an object uploaded without SSE headers is encrypted, on all 8 drives of the erasure set', { skip: programs }, async () => {
    // MinIO's auto-encryption seals an object sent without SSE headers under its default KMS key and reports it
    // as SSE-KMS (aws:kms) with that key's name.
    const files = await putEncrypted(B, 'auto', false, { header: 'aws:kms', keyId: B_KEY });
    const drivesHoldingIt = new Set(files.filter((path) => path.endsWith('xl.meta')).map((path) => path.slice(0, path.indexOf(join('auto', 'object.bin')))));
    assert.equal(drivesHoldingIt.size, 8, `the object's xl.meta is on 8 drives: ${[...drivesHoldingIt].join(' ')}`);
  });

  it('two tenants on one Vault: A\'s MinIO identity gets 403 from KES for B\'s key, A\'s AppRole 403 from Vault for B\'s prefix', { skip: programs }, async () => {
    // The same calls on A's own key succeed, so the 403s are about the key, not the call.
    assert.equal(await kesCallAs(stack, A, A, `/v1/key/generate/${KEY}`), 200, 'A\'s MinIO generates a data key under its own key');
    assert.equal(await kesCallAs(stack, A, A, `/v1/key/generate/${B_KEY}`), 403, 'A\'s KES refuses B\'s key to A\'s MinIO');
    assert.equal(await kesCallAs(stack, A, B, `/v1/key/generate/${B_KEY}`), 403, 'B\'s KES refuses A\'s MinIO identity');
    const tokenA = await appRoleToken(stack, A);
    assert.equal((await stack.vault.request('GET', `kv/${PREFIX}/${KEY}`, undefined, tokenA)).status, 200, 'A\'s AppRole reads its own prefix');
    assert.equal((await stack.vault.request('GET', `kv2/data/${B_PREFIX}/${B_KEY}`, undefined, tokenA)).status, 403, 'A\'s AppRole is refused B\'s key');
    assert.equal((await stack.vault.request('LIST', `kv2/metadata/${B_PREFIX}`, undefined, tokenA)).status, 403, 'A\'s AppRole cannot list B\'s prefix');
    await stack.vault.request('POST', 'auth/token/revoke-self', undefined, tokenA);
  });

  it('the static-key example, applied unchanged, becomes Ready and encrypts without SSE headers (no Vault, no KES)', { skip: programs }, async () => {
    // The example names no namespace; it is applied into a watched one.
    await stack.cluster.kubectl(['apply', '-n', NAMESPACE, '-f', join(repoRoot, 'examples/kmsdeployment-static-key.yaml')]);
    await kubectlWaitReady(stack, NAMESPACE, 'minio-dev');
    await putEncrypted({ namespace: NAMESPACE, name: 'minio-dev' }, 'static', false, { header: /^(aws:kms|AES256)$/ });
    await stack.cluster.kubectl(['delete', 'kmsd', 'minio-dev', '-n', NAMESPACE, '--timeout=120s']);
  });

  it('deletion: the Vault role and policy are gone, the keys kept (Retain), no process of the tenant left', { skip: programs }, async () => {
    const vaultName = vaultObjectName(B.namespace, B.name);
    assert.equal((await stack.vault.request('GET', `sys/policies/acl/${vaultName}`)).status, 200, 'the policy exists before');
    assert.equal((await stack.vault.request('GET', `auth/approle/role/${vaultName}`)).status, 200, 'the role exists before');
    const pids = podProcesses(stack, B.namespace);
    assert.ok(pids.length >= 5, `the tenant's KES and MinIO processes run before (${pids.length})`);
    await stack.cluster.kubectl(['delete', 'kmsd', B.name, '-n', B.namespace, '--timeout=120s']);
    assert.equal((await stack.vault.request('GET', `sys/policies/acl/${vaultName}`)).status, 404, 'the policy is gone');
    assert.equal((await stack.vault.request('GET', `auth/approle/role/${vaultName}`)).status, 404, 'the role is gone');
    assert.equal((await stack.vault.request('GET', `kv2/data/${B_PREFIX}/${B_KEY}`)).status, 200, 'the master key is kept');
    await waitFor('the tenant\'s Pods and processes gone', async () => (podProcesses(stack, B.namespace).length === 0 && !pids.some(isAlive) ? true : undefined), 120_000, 500);
    // The other tenant is untouched.
    await kubectlWaitReady(stack, NAMESPACE, NAME, '10s');
  });
});
