// Issue 22 on the local test cluster: a KMSDeployment whose KES logs in to Vault with its own
// ServiceAccount (spec.vault.kesAuth: Kubernetes: a projected, audience-bound token; no AppRole Secret,
// no secret-id) and that declares a bucket with its own master key. The operator is installed with
// helm and runs dist/main.js of this checkout (the S3 client loaded from its chunk); KES serves keys,
// the operator creates the bucket through MinIO's S3 API, and an object put without encryption headers
// is encrypted with the bucket's key. Serialize with the heavy-run lock (docs/testing.md).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as yaml from 'js-yaml';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { renderOperatorPolicy } from '../../../src/vault/operator-policy.ts';
import { appRoleSecretName, vaultObjectName } from '../../../src/vault/names.ts';
import { clusterUnavailable, stopWithoutLeftovers } from '../../env/cluster.ts';
import {
  exposeVault, installOperator, kubectlWaitReady, OPERATOR_VAULT_ROLE, prepareNamespace, s3Client, setUpVault, startE2EStack, VAULT_ADDRESS, type E2EStack,
} from '../../env/e2e-stack.ts';

import { missingProgram } from '../../env/programs.ts';

const NS = 'storage';
const NAME = 'tenant-k8s';
const skip = clusterUnavailable() || missingProgram('kes') || missingProgram('minio') || false;

const deployment = {
  apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment', metadata: { name: NAME, namespace: NS },
  spec: {
    vault: {
      address: VAULT_ADDRESS, tls: { caSecretRef: { name: 'vault-ca' } }, auth: { kubernetes: { role: OPERATOR_VAULT_ROLE } },
      kv: { prefix: 'kmsstack/storage/k8s' }, kesAuth: 'Kubernetes',
    },
    kes: { replicas: 1, keys: [{ name: 'minio-key-1' }, { name: 'invoices-key' }] },
    // One server with two drives (issue 19's layouts: 1 and 4 servers with 2 drives each; e2e.test.ts has the 4).
    minio: { replicas: 1, drivesPerServer: 2, storage: { size: '1Gi' }, keyName: 'minio-key-1', buckets: [{ name: 'invoices', key: 'invoices-key', versioning: true }] },
  },
};

describe('KES on Kubernetes auth and a bucket with its own key, on the local cluster', { skip }, () => {
  let stack: E2EStack;
  before(async () => {
    stack = await startE2EStack();
    await exposeVault(stack);
    await setUpVault(stack);
    // The operator policy lines docs/vault.md adds for KES's Kubernetes roles (the mount is the one setUpVault configured).
    await stack.vault.writePolicy(OPERATOR_VAULT_ROLE, renderOperatorPolicy({
      kvMounts: [{ mountPath: 'kv', version: 'v1' }], appRoleMountPath: 'approle', allowMountCreation: false, instance: 'default', legacyNames: false,
      kesKubernetesMounts: ['kubernetes'],
    }));
    await prepareNamespace(stack, NS);
    await installOperator(stack, [NS]);
  });
  after(async () => {
    await stopWithoutLeftovers(stack);
  });

  it('becomes Ready with KES logged in by its ServiceAccount, with no AppRole Secret and no secret-id', async () => {
    await stack.cluster.kubectl(['apply', '-f', '-'], yaml.dump(deployment));
    await kubectlWaitReady(stack, NS, NAME, '300s');
    const secrets = await stack.json(['get', 'secrets', '-n', NS]) as { items: { metadata: { name: string } }[] };
    assert.ok(!secrets.items.some((s) => s.metadata.name === appRoleSecretName(NAME)), 'no AppRole Secret');
    const role = vaultObjectName(NS, NAME);
    assert.equal((await stack.vault.request('LIST', `auth/approle/role/${role}/secret-id`)).status, 404, 'no secret-id');
    const k8sRole = (await stack.vault.request('GET', `auth/kubernetes/role/${role}`)).body?.['data'] as { bound_service_account_names?: string[] };
    assert.deepEqual(k8sRole.bound_service_account_names, [`${NAME}-kes`]);
    const pods = await stack.json(['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/name=kes']) as { items: { spec: { serviceAccountName?: string; volumes?: { name: string }[] } }[] };
    assert.ok(pods.items.length > 0);
    for (const pod of pods.items) {
      assert.equal(pod.spec.serviceAccountName, `${NAME}-kes`);
      assert.ok(pod.spec.volumes?.some((v) => v.name === 'vault-token'), 'the projected Vault token');
    }
    const kmsd = await stack.json(['get', 'kmsd', NAME, '-n', NS]) as { status: { vault?: { kesAuth?: string }; buckets?: { name: string; key: string; state: string }[] } };
    assert.equal(kmsd.status.vault?.kesAuth, 'Kubernetes');
    assert.deepEqual(kmsd.status.buckets?.map((b) => [b.name, b.key, b.state]), [['invoices', 'invoices-key', 'Ready']]);
  });

  it('an object put without encryption headers into the bucket is encrypted with the bucket\'s key', async () => {
    const { s3, close } = await s3Client(stack, NS, NAME);
    try {
      const body = Buffer.from(`invoice ${'q'.repeat(128)}`);
      await s3.send(new PutObjectCommand({ Bucket: 'invoices', Key: 'inv-1', Body: body }));
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'invoices', Key: 'inv-1' }));
      assert.equal(head.ServerSideEncryption, 'aws:kms');
      assert.match(head.SSEKMSKeyId ?? '', /(^|:)invoices-key$/, `MinIO names the bucket's key: ${head.SSEKMSKeyId}`);
      assert.deepEqual(Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: 'invoices', Key: 'inv-1' }))).Body!.transformToByteArray()), body);
    } finally {
      await close();
    }
    assert.equal((await stack.vault.request('GET', 'kv/kmsstack/storage/k8s/invoices-key')).status, 200, 'the bucket key is in Vault under the prefix');
  });
});
