// Certificates the user brings (spec.minio.tls.certificateSecretRef, spec.kes.tls.certificateSecretRef:
// kubernetes.io/tls Secrets as cert-manager writes them) against a real kube-apiserver with the operator's
// Manager and default data path: used as given and never written, refused with a message naming the
// field, trusted by MinIO and the operator, and a renewal in the Secret rolls the pods that mount it
// within seconds (the operator watches kubernetes.io/tls Secrets, metadata only, for the ones specs name).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCA, issueServerCertificate, parseCertificateBundle, secretsChecksum, type IssuedAuthority } from '../../../src/pki/index.ts';
import { resources, type KubeObject } from '../../../src/runtime/kube/resources.ts';
import { staticDeployment } from '../runtime/harness.ts';
import {
  certificatesAnnotation,
  getSecret,
  kesDeployment,
  secretContents,
  startPkiStack,
  statusOf,
  vaultDeployment,
  waitFor,
  waitForCondition,
  type Stack,
} from './fixture.ts';

const NS = 'byo-certs';
const day = 24 * 3_600_000;
const b64 = (text: string) => Buffer.from(text).toString('base64');

type WorkloadView = KubeObject & { spec?: { template?: { metadata?: { annotations?: Record<string, string> }; spec?: { volumes?: { name: string; secret?: { secretName?: string } }[] } } } };

describe('certificates the user brings, on the real API server', { timeout: 600_000 }, () => {
  let stack: Stack;
  let corp: IssuedAuthority;

  const tlsSecret = (name: string, cert: { certPem: string; keyPem: string }, ca?: string, type = 'kubernetes.io/tls'): KubeObject => ({
    apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS }, type,
    data: { 'tls.crt': b64(cert.certPem), 'tls.key': b64(cert.keyPem), ...(ca ? { 'ca.crt': b64(ca) } : {}) },
  });
  const serverCert = (dnsNames: string[]) => issueServerCertificate({ ca: corp.authority, subject: { commonName: 'byo' }, dnsNames, validityMs: 30 * day, now: new Date() });
  const minioHosts = (name: string) => [`${name}-minio.${NS}.svc.cluster.local`, `*.${name}-minio-hl.${NS}.svc.cluster.local`];
  const statefulSet = (name: string) => stack.kube.get<WorkloadView>(resources.StatefulSet, NS, `${name}-minio`);
  const mounted = (workload: WorkloadView | undefined, volume: string) => workload?.spec?.template?.spec?.volumes?.find((v) => v.name === volume)?.secret?.secretName;

  before(async () => {
    stack = await startPkiStack(NS);
    corp = await createCA({ subject: { commonName: 'corp-issuer' }, validityMs: 365 * day, now: new Date() });
  });

  after(async () => {
    await stack?.stop();
  });

  it("MinIO serves the user's certificate: nothing issued, its ca.crt published, the pods mount it", async () => {
    await stack.kube.create(tlsSecret('dev-minio-cert', await serverCert(minioHosts('dev')), corp.certPem));
    await stack.kube.create(staticDeployment(NS, 'dev', { minio: { replicas: 4, keyName: 'dev-key', storage: { size: '1Gi' }, tls: { certificateSecretRef: { name: 'dev-minio-cert' } } } }));
    const condition = await waitForCondition(stack, 'dev', { status: 'True', reason: 'UserProvided' });
    assert.match(condition.message, /dev-minio-cert/);
    for (const name of ['dev-ca', 'dev-minio-tls']) assert.equal(await getSecret(stack, name), undefined, `${name}: nothing issued`);
    const published = await waitFor('the CA ConfigMap', () => stack.kube.get<KubeObject & { data?: Record<string, string> }>(resources.ConfigMap, NS, 'dev-minio-ca'));
    assert.equal(published.data?.['ca.crt'], corp.certPem);
    const sts = await waitFor('the StatefulSet', () => statefulSet('dev'));
    assert.equal(mounted(sts, 'certs'), 'dev-minio-cert');
    const user = await getSecret(stack, 'dev-minio-cert');
    assert.equal(user?.metadata.ownerReferences, undefined, 'the operator never takes the Secret over');
    await waitFor('status.minio.caConfigMap', async () => (((await statusOf(stack, 'dev')) as { minio?: { caConfigMap?: string } }).minio?.caConfigMap === 'dev-minio-ca' ? true : undefined));
  });

  it('a renewed certificate in the Secret rolls MinIO within seconds: the Secret is watched, not only polled every minute', { timeout: 150_000 }, async () => {
    const before = certificatesAnnotation(await statefulSet('dev'));
    const renewed = await serverCert(minioHosts('dev'));
    const replacedAt = Date.now();
    await stack.kube.replace({ ...(await getSecret(stack, 'dev-minio-cert'))!, data: tlsSecret('x', renewed, corp.certPem)['data'] } as KubeObject);
    const expected = secretsChecksum({ minioServer: await secretContents(stack, 'dev-minio-cert') }, ['minioServer']);
    assert.notEqual(expected, before);
    // Far below the one-minute poll (USER_CERTIFICATE_POLL_MS) and the 10-minute resync of the test operator.
    await waitFor('the StatefulSet to carry the new checksum', async () => (certificatesAnnotation(await statefulSet('dev')) === expected ? true : undefined), 15_000, 250);
    assert.ok(Date.now() - replacedAt < 15_000, `picked up after ${Date.now() - replacedAt} ms`);
  });

  it('an unusable Secret is refused naming the field and the problem, and nothing is changed', async () => {
    const cases: [string, KubeObject | undefined, RegExp][] = [
      ['missing', undefined, /^Secret "bad-cert" \(spec\.minio\.tls\.certificateSecretRef\): was not found/],
      ['Opaque', tlsSecret('bad-cert', await serverCert(minioHosts('bad')), corp.certPem, 'Opaque'), /has type Opaque; it must be kubernetes\.io\/tls/],
      ['other names', tlsSecret('bad-cert', await serverCert(['elsewhere.example']), corp.certPem), /does not name bad-minio\.byo-certs\.svc\.cluster\.local, .*which clients connect to/],
    ];
    await stack.kube.create(staticDeployment(NS, 'bad', { minio: { replicas: 4, keyName: 'dev-key', storage: { size: '1Gi' }, tls: { certificateSecretRef: { name: 'bad-cert' } } } }));
    for (const [what, secret, message] of cases) {
      const live = await getSecret(stack, 'bad-cert');
      if (live) await stack.kube.delete(resources.Secret, NS, 'bad-cert', live.metadata.uid);
      if (secret) await stack.kube.create(secret);
      // The refusal is looked at again every minute; an edit of the KMSDeployment makes it now.
      await waitFor('the KMSDeployment touched', async () => {
        const touched = await stack.kube.get<KubeObject>(resources.KMSDeployment, NS, 'bad');
        return stack.kube.replace({ ...touched!, metadata: { ...touched!.metadata, annotations: { case: what } } }).then(() => true, () => undefined);
      });
      const condition = await waitFor(`refusal (${what})`, async () => {
        const found = (await statusOf(stack, 'bad')).conditions?.find((c) => c.type === 'CertificatesReady');
        return found?.reason === 'InvalidCertificateSecret' && message.test(found.message) ? found : undefined;
      });
      assert.doesNotMatch(condition.message, /BEGIN/, what);
      assert.equal(await statefulSet('bad'), undefined, `${what}: no MinIO mounts an unusable certificate`);
    }
  });

  it("KES serves the user's certificate and MinIO and the operator trust its ca.crt", async () => {
    const kes = await serverCert([`tenant-a-kes.${NS}.svc.cluster.local`]);
    await stack.kube.create(tlsSecret('tenant-a-kes-cert', kes, corp.certPem));
    await stack.kube.create(vaultDeployment(stack, 'tenant-a', { kes: { replicas: 1, keys: [{ name: 'minio-key-1' }], tls: { certificateSecretRef: { name: 'tenant-a-kes-cert' } } } }));
    await waitForCondition(stack, 'tenant-a', { status: 'True', reason: 'Issued' });
    assert.equal(await getSecret(stack, 'tenant-a-kes-tls'), undefined, 'no KES certificate issued');
    const bundle = parseCertificateBundle((await secretContents(stack, 'tenant-a-minio-kes-identity'))['ca.crt']).map((c) => c.pem);
    assert.deepEqual(bundle, [(await secretContents(stack, 'tenant-a-ca'))['tls.crt'], corp.certPem], "the deployment's CA, then the user's KES issuer");
    const operatorBundle = (await secretContents(stack, 'tenant-a-operator-kes-identity'))['ca.crt'];
    assert.ok(operatorBundle?.includes(corp.certPem), 'the operator verifies KES with it too');
    const deployment = await waitFor('the KES Deployment', () => kesDeployment(stack, 'tenant-a') as Promise<WorkloadView | undefined>);
    assert.equal(mounted(deployment, 'tls'), 'tenant-a-kes-cert');
    assert.equal(certificatesAnnotation(deployment), secretsChecksum({ kesServer: await secretContents(stack, 'tenant-a-kes-cert') }, ['kesServer']));
  });
});
