// examples/kmsdeployment-full.yaml (every field) on the local test cluster (issues 19 and 21: "every example
// applies, becomes Ready in the end-to-end suite"): what it references is made first as a user would make it
// (the Vault CA Secret, the PriorityClass, both ServiceAccounts, the image pull Secret, the StorageClass
// fast-ssd, the root credentials, the issuer CA of spec.tls.caSecretRef and the server certificates of both
// certificateSecretRefs, issued with openssl by a CA of the test's own, as cert-manager would, for exactly the
// names docs/pki.md says), then the example is applied with kubectl, adapted only where this one-node cluster
// and its Vault cannot honour it (ADAPTATIONS below, each with its reason), and must become Ready with
// 4 + 4 MinIO servers and 3 KES. One object then goes through the bucket `invoices` over HTTPS, verified with
// the CA the operator published from the certificate Secret, and is reported encrypted with the bucket's key.
// Serialize with the heavy-run lock (docs/testing.md).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as yaml from 'js-yaml';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { clusterUnavailable, stopWithoutLeftovers } from '../../env/cluster.ts';
import {
  exposeVault, installOperator, kubectlWaitReady, prepareNamespace, s3Client, setUpVault, startE2EStack, type E2EStack,
} from '../../env/e2e-stack.ts';
import { PROVISIONER } from '../../env/node-agent/agent.ts';
import { repoRoot } from '../../env/process.ts';
import { missingProgram } from '../../env/programs.ts';

const NS = 'storage';
const NAME = 'tenant-a';
const skip = clusterUnavailable() || missingProgram('kes') || missingProgram('minio') || false;

type Spec = Record<string, Record<string, unknown>>;
type Example = { metadata: { name: string; namespace: string }; spec: Spec };

/**
 * The only changes to the example, each because this cluster cannot honour the field as written:
 * - spec.vault.namespace: Vault namespaces exist in Vault Enterprise and OpenBao only; the test's Vault is OSS.
 * - spec.minio.affinity: its required pod anti-affinity on kubernetes.io/hostname puts each MinIO server on a
 *   node of its own; the test cluster has one node, so the same term is kept as a preference (weight 100).
 * Everything else (3 KES, 4 + 4 MinIO servers with 2 drives, 100Gi and 200Gi drives, which the node agent
 * mounts as tmpfs that take memory only as they fill) is applied as written.
 */
function adapt(example: Example): Example {
  const { vault, minio } = example.spec;
  delete vault!['namespace'];
  const antiAffinity = (minio!['affinity'] as { podAntiAffinity: Record<string, unknown[]> }).podAntiAffinity;
  const required = antiAffinity['requiredDuringSchedulingIgnoredDuringExecution']!;
  delete antiAffinity['requiredDuringSchedulingIgnoredDuringExecution'];
  antiAffinity['preferredDuringSchedulingIgnoredDuringExecution'] = required.map((podAffinityTerm) => ({ weight: 100, podAffinityTerm }));
  return example;
}

/** A CA and server certificates made with the openssl CLI, independent of the operator's PKI (src/pki). */
class TestIssuer {
  private readonly dir = mkdtempSync(join(tmpdir(), 'kmsstack-full-example-'));
  private counter = 0;

  private openssl(args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  }

  private read(file: string): string {
    return readFileSync(join(this.dir, file), 'utf8');
  }

  ca(commonName: string): { cert: string; key: string; file: string } {
    const file = `ca${this.counter++}`;
    this.openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${file}.key`]);
    this.openssl(['req', '-x509', '-new', '-key', `${file}.key`, '-subj', `/CN=${commonName}`, '-days', '2', '-sha256',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', `${file}.crt`]);
    return { cert: this.read(`${file}.crt`), key: this.read(`${file}.key`), file };
  }

  server(ca: { file: string }, dnsNames: string[]): { cert: string; key: string } {
    const file = `leaf${this.counter++}`;
    this.openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${file}.key`]);
    this.openssl(['req', '-new', '-key', `${file}.key`, '-subj', `/CN=${dnsNames[0]}`, '-out', `${file}.csr`]);
    writeFileSync(join(this.dir, `${file}.ext`), [
      'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth',
      `subjectAltName=${dnsNames.map((n) => `DNS:${n}`).join(',')}`,
    ].join('\n') + '\n');
    this.openssl(['x509', '-req', '-in', `${file}.csr`, '-CA', `${ca.file}.crt`, '-CAkey', `${ca.file}.key`, '-CAcreateserial',
      '-days', '2', '-sha256', '-extfile', `${file}.ext`, '-out', `${file}.crt`]);
    return { cert: this.read(`${file}.crt`), key: this.read(`${file}.key`) };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const tlsSecret = (name: string, data: Record<string, string>) => ({
  apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name, namespace: NS },
  data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
});

describe('examples/kmsdeployment-full.yaml on the local cluster', { skip }, () => {
  let stack: E2EStack;
  const issuer = new TestIssuer();
  // The certificates of both certificateSecretRefs come from a CA other than the issuer CA of spec.tls.caSecretRef,
  // so that only the Secrets' ca.crt make MinIO, the operator and the S3 client trust them.
  const serverCA = issuer.ca('kmsstack-test-server-ca');
  const example = adapt(yaml.load(readFileSync(join(repoRoot, 'examples/kmsdeployment-full.yaml'), 'utf8')) as Example);

  before(async () => {
    assert.deepEqual(example.metadata, { name: NAME, namespace: NS }, 'the example is written for storage/tenant-a');
    stack = await startE2EStack();
    await exposeVault(stack);
    await setUpVault(stack, [{ mountPath: 'kv', version: 'v2' }]); // spec.vault.kv: KV v2 at kv
    await prepareNamespace(stack, NS); // the Secret vault-ca of spec.vault.tls.caSecretRef
    const kubectl = (args: string[], stdin?: string) => stack.cluster.kubectl(args, stdin);
    const apply = (object: unknown) => kubectl(['apply', '-f', '-'], JSON.stringify(object));
    await apply({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'storage-critical' }, value: 1_000_000 });
    // fast-ssd with the provisioner of the node agent's own StorageClass, so its claims are provisioned too.
    await apply({
      apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'fast-ssd' },
      provisioner: PROVISIONER, reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate', allowVolumeExpansion: true,
    });
    await kubectl(['create', 'serviceaccount', 'kes-tenant-a', '-n', NS]);
    await kubectl(['create', 'serviceaccount', 'minio-tenant-a', '-n', NS]);
    await kubectl(['create', 'secret', 'docker-registry', 'registry-credentials', '-n', NS,
      '--docker-server=registry.example.com', '--docker-username=storage', '--docker-password=not-used-here']);
    await kubectl(['create', 'secret', 'generic', 'tenant-a-minio-root', '-n', NS,
      '--from-literal=rootUser=tenant-a-root', `--from-literal=rootPassword=${randomBytes(24).toString('hex')}`]);
    const issuerCA = issuer.ca('kmsstack-test-storage-issuer-ca');
    await apply(tlsSecret('storage-issuer-ca', { 'tls.crt': issuerCA.cert, 'tls.key': issuerCA.key }));
    // The names docs/pki.md requires ("Server certificates of your own"), and no more.
    const kes = issuer.server(serverCA, [`${NAME}-kes.${NS}.svc.cluster.local`]);
    await apply(tlsSecret('tenant-a-kes-cert', { 'tls.crt': kes.cert, 'tls.key': kes.key, 'ca.crt': serverCA.cert }));
    const minio = issuer.server(serverCA, [`${NAME}-minio.${NS}.svc.cluster.local`, `*.${NAME}-minio-hl.${NS}.svc.cluster.local`]);
    await apply(tlsSecret('tenant-a-minio-cert', { 'tls.crt': minio.cert, 'tls.key': minio.key, 'ca.crt': serverCA.cert }));
    await installOperator(stack, [NS]);
    await kubectl(['apply', '-f', '-'], yaml.dump(example));
    await kubectlWaitReady(stack, NS, NAME, '900s');
  });
  after(async () => {
    issuer.cleanup();
    await stopWithoutLeftovers(stack);
  });

  it('runs every server the example asks for, on claims of fast-ssd, with the certificates of the user', async () => {
    const statefulSets = (await stack.json(['get', 'statefulset', '-n', NS, '-l', `app.kubernetes.io/instance=${NAME}`])) as { items: { metadata: { name: string }; status: { readyReplicas?: number } }[] };
    assert.deepEqual(Object.fromEntries(statefulSets.items.map((s) => [s.metadata.name, s.status.readyReplicas])), { 'tenant-a-minio': 4, 'tenant-a-minio-pool2': 4 });
    const kes = (await stack.json(['get', 'deployment', `${NAME}-kes`, '-n', NS])) as { status: { readyReplicas?: number } };
    assert.equal(kes.status.readyReplicas, 3);
    const claims = (await stack.json(['get', 'pvc', '-n', NS])) as { items: { spec: { storageClassName?: string }; status: { phase?: string; capacity?: { storage?: string } } }[] };
    assert.equal(claims.items.length, 16, '8 servers x 2 drives');
    for (const claim of claims.items) {
      assert.equal(claim.spec.storageClassName, 'fast-ssd');
      assert.equal(claim.status.phase, 'Bound');
    }
    assert.deepEqual(claims.items.map((c) => c.status.capacity?.storage).sort(), [...Array(8).fill('100Gi'), ...Array(8).fill('200Gi')]);
    // The Pods run as the ServiceAccounts the example names, with the PriorityClass's priority as admission resolved it.
    const pods = (await stack.json(['get', 'pod', '-n', NS, '-l', `app.kubernetes.io/instance=${NAME}`])) as { items: { metadata: { labels: Record<string, string> }; spec: { serviceAccountName: string; priority?: number } }[] };
    assert.equal(pods.items.length, 11, '8 MinIO and 3 KES Pods');
    for (const pod of pods.items) {
      const component = pod.metadata.labels['app.kubernetes.io/name'];
      assert.equal(pod.spec.serviceAccountName, `${component}-tenant-a`);
      assert.equal(pod.spec.priority, 1_000_000, `${component}: the priority of storage-critical`);
    }
    // Both keys in KV v2 at kv under the example's prefix.
    const keys = await stack.vault.request('LIST', 'kv/metadata/kmsstack/storage/tenant-a');
    assert.deepEqual(((keys.body?.['data'] as { keys?: string[] } | undefined)?.keys ?? []).sort(), ['tenant-a-key-1', 'tenant-a-key-2']);
    // The user's CA and certificates are used: the operator made none of its own.
    const secrets = (await stack.json(['get', 'secret', '-n', NS])) as { items: { metadata: { name: string } }[] };
    const names = secrets.items.map((s) => s.metadata.name);
    for (const own of ['tenant-a-ca', 'tenant-a-kes-tls', 'tenant-a-minio-tls']) assert.ok(!names.includes(own), `${own} is not created`);
    const published = (await stack.json(['get', 'configmap', 'tenant-a-minio-ca', '-n', NS])) as { data: Record<string, string> };
    assert.equal(new X509Certificate(published.data['ca.crt']!).fingerprint256, new X509Certificate(serverCA.cert).fingerprint256);
  });

  it('stores an object in the bucket invoices over HTTPS, encrypted with the bucket key tenant-a-key-2', async () => {
    const body = Buffer.from(`invoice ${'f'.repeat(4096)}`);
    // s3Client trusts only the CA bundle of status.minio.caConfigMap (the test's server CA) for the Service's name.
    const { s3, url, close } = await s3Client(stack, NS, NAME);
    try {
      assert.ok(url.startsWith('https://'), url);
      // No SSE header: the bucket's default encryption (SSE-KMS with its key) applies.
      await s3.send(new PutObjectCommand({ Bucket: 'invoices', Key: 'invoice-1', Body: body }));
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'invoices', Key: 'invoice-1' }));
      assert.equal(head.ServerSideEncryption, 'aws:kms');
      assert.match(head.SSEKMSKeyId ?? '', /tenant-a-key-2$/);
      assert.ok(head.VersionId && head.VersionId !== 'null', `versioning is on: ${head.VersionId}`);
      const got = await s3.send(new GetObjectCommand({ Bucket: 'invoices', Key: 'invoice-1' }));
      assert.equal(got.ServerSideEncryption, 'aws:kms');
      assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), body);
    } finally {
      await close();
    }
  });
});
