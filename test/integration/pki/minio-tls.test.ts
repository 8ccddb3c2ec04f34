// MinIO's S3 TLS (on by default) against a real kube-apiserver, with the operator's Manager and its
// default data path: the server certificate Secret, the CA ConfigMap for S3 clients and its name in
// status, the StatefulSet that mounts the certificate and probes over HTTPS, the roll when the
// certificate is re-issued, and spec.minio.tls.enabled: false for clusters that terminate TLS elsewhere.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { secretsChecksum } from '../../../src/pki/index.ts';
import { resources, type KubeObject } from '../../../src/runtime/kube/resources.ts';
import { staticDeployment } from '../runtime/harness.ts';
import {
  certificatesAnnotation,
  deleteUntilReissued,
  getSecret,
  opensslVerifies,
  secretContents,
  startPkiStack,
  statusOf,
  vaultDeployment,
  waitFor,
  waitForCondition,
  type Stack,
} from './fixture.ts';

const NS = 'minio-tls';

type StatefulSetView = KubeObject & {
  spec?: {
    template?: {
      metadata?: { annotations?: Record<string, string> };
      spec?: {
        containers?: { args?: string[]; readinessProbe?: { httpGet?: { scheme?: string } }; livenessProbe?: { httpGet?: { scheme?: string } } }[];
        volumes?: { name: string; secret?: { secretName?: string; items?: { key: string; path: string }[] } }[];
      };
    };
  };
};

const statefulSet = (stack: Stack, name: string) => stack.kube.get<StatefulSetView>(resources.StatefulSet, stack.namespace, `${name}-minio`);
const configMap = (stack: Stack, name: string) => stack.kube.get<KubeObject & { data?: Record<string, string> }>(resources.ConfigMap, stack.namespace, name);
const minioStatus = async (stack: Stack, name: string) => (await statusOf(stack, name) as { minio?: { endpoint?: string; caConfigMap?: string } }).minio;

describe('MinIO S3 TLS on the real API server', { timeout: 600_000 }, () => {
  let stack: Stack;

  before(async () => {
    stack = await startPkiStack(NS);
  });

  after(async () => {
    await stack?.stop();
  });

  it("Vault mode: MinIO's server certificate names the Services and every per-pod name, and the CA is published for S3 clients", async () => {
    await stack.kube.create(vaultDeployment(stack, 'tenant-a'));
    await waitForCondition(stack, 'tenant-a', { status: 'True', reason: 'Issued' });
    const secret = await waitFor('tenant-a-minio-tls', () => getSecret(stack, 'tenant-a-minio-tls'));
    assert.equal(secret.type, 'kubernetes.io/tls');
    assert.deepEqual([secret.metadata.ownerReferences?.[0]?.kind, secret.metadata.ownerReferences?.[0]?.controller], ['KMSDeployment', true]);
    const tls = await secretContents(stack, 'tenant-a-minio-tls');
    assert.ok(opensslVerifies(tls['ca.crt'] ?? '', tls['tls.crt'] ?? '', 'sslserver'), 'openssl accepts it as a server certificate of the CA');
    const cert = new X509Certificate(tls['tls.crt'] ?? '');
    for (const host of [
      'tenant-a-minio', `tenant-a-minio.${NS}`, `tenant-a-minio.${NS}.svc`, `tenant-a-minio.${NS}.svc.cluster.local`,
      `tenant-a-minio-0.tenant-a-minio-hl.${NS}.svc.cluster.local`, `tenant-a-minio-3.tenant-a-minio-hl.${NS}.svc`,
    ]) {
      assert.ok(cert.checkHost(host), `the certificate is valid for ${host}`);
    }
    assert.equal(cert.checkHost(`tenant-b-minio.${NS}.svc.cluster.local`), undefined, 'and not for another deployment');

    const published = await waitFor('the CA ConfigMap', () => configMap(stack, 'tenant-a-minio-ca'));
    assert.equal(published.data?.['ca.crt'], tls['ca.crt'], 'the ConfigMap holds the bundle MinIO trusts');
    assert.equal(published.metadata.ownerReferences?.[0]?.name, 'tenant-a');
    const ca = await secretContents(stack, 'tenant-a-ca');
    assert.equal(published.data?.['ca.crt'], ca['tls.crt'], "it is the deployment's CA, no key");
  });

  it('StaticKey mode: a CA and the MinIO certificate only; the StatefulSet mounts it, probes HTTPS, names https peers and status names the CA', async () => {
    await stack.kube.create(staticDeployment(NS, 'dev', { minio: { replicas: 4, keyName: 'dev-key', storage: { size: '1Gi' } } }));
    await waitForCondition(stack, 'dev', { status: 'True', reason: 'Issued' });
    for (const name of ['dev-kes-tls', 'dev-minio-kes-identity', 'dev-operator-kes-identity']) assert.equal(await getSecret(stack, name), undefined, name);
    const sts = await waitFor('the MinIO StatefulSet', () => statefulSet(stack, 'dev'));
    const pod = sts.spec?.template?.spec;
    const certs = pod?.volumes?.find((v) => v.name === 'certs')?.secret;
    assert.equal(certs?.secretName, 'dev-minio-tls');
    assert.deepEqual(certs?.items?.map((i) => i.path), ['public.crt', 'private.key', 'CAs/ca.crt']);
    const container = pod?.containers?.[0];
    assert.deepEqual([container?.readinessProbe?.httpGet?.scheme, container?.livenessProbe?.httpGet?.scheme], ['HTTPS', 'HTTPS']);
    assert.match(container?.args?.at(-1) ?? '', /^https:\/\/dev-minio-\{0\.\.\.3\}\.dev-minio-hl\./);
    const expected = secretsChecksum({ minioServer: await secretContents(stack, 'dev-minio-tls') }, ['minioServer']);
    assert.equal(certificatesAnnotation(sts), expected, 'the pod template carries the checksum of the certificate it mounts');
    const status = await waitFor('status.minio', async () => ((await minioStatus(stack, 'dev'))?.caConfigMap ? minioStatus(stack, 'dev') : undefined));
    assert.deepEqual(status, { ...status, endpoint: `https://dev-minio.${NS}.svc.cluster.local:9000`, caConfigMap: 'dev-minio-ca' });
  });

  it('a deleted MinIO certificate is issued again and MinIO rolls to it', async () => {
    const before = certificatesAnnotation(await statefulSet(stack, 'dev'));
    await deleteUntilReissued(stack, 'dev-minio-tls');
    const expected = secretsChecksum({ minioServer: await secretContents(stack, 'dev-minio-tls') }, ['minioServer']);
    assert.notEqual(expected, before);
    await waitFor('the MinIO pod template to carry the new checksum', async () => (certificatesAnnotation(await statefulSet(stack, 'dev')) === expected ? true : undefined));
    const published = await configMap(stack, 'dev-minio-ca');
    assert.equal(published?.data?.['ca.crt'], (await secretContents(stack, 'dev-minio-tls'))['ca.crt']);
  });

  it('spec.minio.tls.enabled false serves plain HTTP: the certificate, the CA ConfigMap and status.minio.caConfigMap go away', async () => {
    const live = await stack.kube.get<KubeObject & { spec: { minio: Record<string, unknown> } }>(resources.KMSDeployment, NS, 'dev');
    assert.ok(live);
    await stack.kube.replace({ ...live, spec: { ...live.spec, minio: { ...live.spec.minio, tls: { enabled: false } } } });
    await waitForCondition(stack, 'dev', { status: 'True', reason: 'NotUsed' });
    // Children are pruned by a complete run only: play the StatefulSet controller (no kubelet here).
    const plain = await waitFor('the plain StatefulSet', async () => {
      const sts = await statefulSet(stack, 'dev');
      return sts?.spec?.template?.spec?.containers?.[0]?.readinessProbe?.httpGet?.scheme === 'HTTP' ? sts : undefined;
    });
    const rolledOut = { observedGeneration: plain.metadata.generation, replicas: 4, readyReplicas: 4, availableReplicas: 4, updatedReplicas: 4, currentReplicas: 4, currentRevision: 'r', updateRevision: 'r' };
    await stack.kube.apply({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'dev-minio', namespace: NS }, status: rolledOut }, { subresource: 'status' });
    await waitFor('the certificate Secrets and the ConfigMap to be pruned', async () => {
      const left = [await getSecret(stack, 'dev-minio-tls'), await getSecret(stack, 'dev-ca'), await configMap(stack, 'dev-minio-ca')].filter(Boolean);
      return left.length === 0 ? true : undefined;
    });
    assert.match(plain.spec?.template?.spec?.containers?.[0]?.args?.at(-1) ?? '', /^http:\/\//);
    const status = await waitFor('status without the CA', async () => {
      const minio = await minioStatus(stack, 'dev');
      return minio?.endpoint?.startsWith('http://') && minio.caConfigMap === undefined ? minio : undefined;
    });
    assert.equal(status.caConfigMap, undefined);
  });
});
