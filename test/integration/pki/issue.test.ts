// The PKI step in the operator's default data path against a real kube-apiserver and Vault: what a new
// KMSDeployment gets, that a settled reconcile writes nothing, and that deleted, edited or mistyped
// certificate Secrets are repaired from their watch events.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { kesIdentity, parseCertificatePem } from '../../../src/pki/index.ts';
import { childLabels } from '../../../src/runtime/children.ts';
import { resources } from '../../../src/runtime/kube/resources.ts';
import { autoEncrypting, WRITE_VERBS, writeCount } from '../runtime/harness.ts';
import { inNamespace, kmsDeployment, withMinio } from '../../support/kmsdeployment.ts';
import { certificatesAnnotation, conditionOf, deleteUntilReissued, getSecret, kesDeployment, kesSecretChecksum, opensslVerifies, pkiNames, reconcileNow, secretContents, settledWrites, startPkiStack, statusOf, vaultDeployment, waitFor, waitForCondition } from './fixture.ts';
import { suiteFixture } from '../../support/suite.ts';

const NS = 'pki-issue';

describe('PKI on the real API server', { timeout: 600_000 }, () => {
  const stack = suiteFixture(() => startPkiStack(NS));


  it('a new KMSDeployment gets its CA and three owned certificate Secrets, CertificatesReady=Issued and its identities', async () => {
    await stack.kube.create(vaultDeployment(stack, 'tenant-a'));
    const first = await waitForCondition(stack, 'tenant-a', { status: 'True', reason: 'Issued' });
    assert.doesNotMatch(first.message, /BEGIN|PRIVATE/);
    // The reconcile that issued lists what it issued; the next one (from the Secrets' events) says until when.
    await waitFor('the steady-state message', async () => ((await conditionOf(stack, 'tenant-a'))?.message.startsWith('certificates valid until ') ? true : undefined));
    const names = pkiNames('tenant-a');
    for (const name of Object.values(names)) {
      const secret = await getSecret(stack, name);
      assert.ok(secret, `${name} exists`);
      assert.equal(secret.type, 'kubernetes.io/tls', name);
      assert.deepEqual(Object.keys(secret.data ?? {}).sort(), ['ca.crt', 'tls.crt', 'tls.key'], name);
      const owner = secret.metadata.ownerReferences?.[0];
      assert.deepEqual([owner?.kind, owner?.name, owner?.controller], ['KMSDeployment', 'tenant-a', true], name);
      assert.equal(secret.metadata.labels?.['app.kubernetes.io/managed-by'], 'kmsstack-operator', name);
      assert.equal(secret.metadata.labels?.['app.kubernetes.io/instance'], 'tenant-a', name);
    }
    const kes = await secretContents(stack, names.kesServer);
    const minio = await secretContents(stack, names.minioClient);
    const operator = await secretContents(stack, names.operatorClient);
    const ca = await secretContents(stack, names.ca);
    assert.equal(kes['ca.crt'], ca['tls.crt'], 'the trust bundle is the CA');
    assert.ok(opensslVerifies(kes['ca.crt'] ?? '', kes['tls.crt'] ?? '', 'sslserver'), 'openssl accepts the KES server certificate');
    assert.ok(opensslVerifies(minio['ca.crt'] ?? '', minio['tls.crt'] ?? '', 'sslclient'), "openssl accepts MinIO's client certificate");
    assert.ok(opensslVerifies(operator['ca.crt'] ?? '', operator['tls.crt'] ?? '', 'sslclient'), "openssl accepts the operator's client certificate");
    assert.deepEqual([...parseCertificatePem(kes['tls.crt'] ?? '').info.dnsNames].sort(), [
      'tenant-a-kes', `tenant-a-kes.${NS}`, `tenant-a-kes.${NS}.svc`, `tenant-a-kes.${NS}.svc.cluster.local`,
    ]);

    const status = await statusOf(stack, 'tenant-a');
    assert.equal(status.kes?.minioIdentity, kesIdentity(minio['tls.crt'] ?? ''));
    assert.equal(status.kes?.operatorIdentity, kesIdentity(operator['tls.crt'] ?? ''));
    assert.equal(status.certificates?.notAfter, parseCertificatePem(kes['tls.crt'] ?? '').info.notAfter.toISOString());
    assert.equal(status.certificates?.caNotAfter, parseCertificatePem(ca['tls.crt'] ?? '').info.notAfter.toISOString());
  });

  it('KES gets the identities in its policies and the certificates checksum on its pod template', async () => {
    const deployment = await waitFor('the KES Deployment', () => kesDeployment(stack, 'tenant-a'), 60_000, 200);
    assert.equal(certificatesAnnotation(deployment), await kesSecretChecksum(stack, 'tenant-a'));
    const config = (await secretContents(stack, 'tenant-a-kes-config'))['config.yaml'] ?? '';
    const status = await statusOf(stack, 'tenant-a');
    assert.ok(status.kes?.minioIdentity && config.includes(status.kes.minioIdentity), 'the KES config names MinIO by its identity');
    assert.ok(status.kes?.operatorIdentity && config.includes(status.kes.operatorIdentity), 'the KES config names the operator by its identity');
  });

  it('a reconcile where nothing changed sends no write', async () => {
    await waitForCondition(stack, 'tenant-a', { reason: 'WaitingForPods' }, 60_000, 'KESAvailable');
    const before = await settledWrites(stack);
    const secretWrites = await stack.plane.requestCount(WRITE_VERBS, 'secrets');
    const versions = await Promise.all(Object.values(pkiNames('tenant-a')).map(async (name) => (await getSecret(stack, name))?.metadata.resourceVersion));
    for (let i = 0; i < 3; i++) await reconcileNow(stack, 'tenant-a');
    assert.equal(await stack.plane.requestCount(WRITE_VERBS, 'secrets'), secretWrites, 'no Secret write');
    assert.equal(await writeCount(stack.plane), before, 'no write at all');
    const after = await Promise.all(Object.values(pkiNames('tenant-a')).map(async (name) => (await getSecret(stack, name))?.metadata.resourceVersion));
    assert.deepEqual(after, versions);
  });

  it('a deleted KES server certificate Secret is issued again from its watch event, and KES rolls', async () => {
    const names = pkiNames('tenant-a');
    const old = await getSecret(stack, names.kesServer);
    const oldChecksum = certificatesAnnotation(await kesDeployment(stack, 'tenant-a'));
    const renewed = await deleteUntilReissued(stack, names.kesServer);
    assert.notEqual(renewed.metadata.uid, old?.metadata.uid);
    assert.equal(renewed.type, 'kubernetes.io/tls');
    const expected = await kesSecretChecksum(stack, 'tenant-a');
    assert.notEqual(expected, oldChecksum);
    await waitFor('the KES pod template to carry the new checksum', async () => (certificatesAnnotation(await kesDeployment(stack, 'tenant-a')) === expected ? true : undefined));
    await waitForCondition(stack, 'tenant-a', { status: 'True', reason: 'Issued' });
  });

  it("a deleted client identity Secret gets a new key: status and KES's policy follow", async () => {
    const names = pkiNames('tenant-a');
    const before = (await statusOf(stack, 'tenant-a')).kes?.minioIdentity;
    const replaced = await deleteUntilReissued(stack, names.minioClient);
    const identity = kesIdentity(Buffer.from(replaced.data?.['tls.crt'] ?? '', 'base64').toString('utf8'));
    assert.notEqual(identity, before, 'a new key, so a new identity');
    await waitFor('the new identity in status', async () => ((await statusOf(stack, 'tenant-a')).kes?.minioIdentity === identity ? true : undefined));
    await waitFor('the KES config to name the new identity', async () => {
      const config = (await secretContents(stack, 'tenant-a-kes-config'))['config.yaml'] ?? '';
      return config.includes(identity) && before !== undefined && !config.includes(before) ? true : undefined;
    });
  });

  it('an unreadable certificate is re-issued with a new key, and an edited trust bundle written back', async () => {
    const names = pkiNames('tenant-a');
    const caPem = (await secretContents(stack, names.ca))['tls.crt'];
    const operatorKey = (await secretContents(stack, names.operatorClient))['tls.key'];
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const garble = () => stack.kube.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: names.operatorClient, namespace: NS }, data: { 'tls.crt': b64('garbage\n') } });
    await garble();
    await stack.kube.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: names.minioClient, namespace: NS }, data: { 'ca.crt': b64('not my CA\n') } });
    const repaired = await waitFor('both Secrets to be repaired', async () => {
      const operator = await secretContents(stack, names.operatorClient);
      const minio = await secretContents(stack, names.minioClient);
      if (!operator['tls.crt']?.startsWith('-----BEGIN CERTIFICATE-----') || minio['ca.crt'] !== caPem) return undefined;
      if (operator['tls.key'] !== operatorKey) return operator;
      // A reconcile that read the Secret before the edit wrote back what it read: edit it again.
      await garble();
      return undefined;
    }, 60_000, 500);
    assert.ok(opensslVerifies(caPem ?? '', repaired['tls.crt'] ?? '', 'sslclient'));
  });

  it("a Secret of the wrong type under a certificate name is replaced when it is the operator's, and left alone (ChildConflict) when it is not", async () => {
    const name = pkiNames('tenant-b').operatorClient;
    const foreign = await stack.kube.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS }, type: 'Opaque', data: { note: Buffer.from('left over').toString('base64') } });
    const deployment = await stack.kube.create(vaultDeployment(stack, 'tenant-b'));
    await waitForCondition(stack, 'tenant-b', { status: 'False', reason: 'ChildConflict' });
    assert.equal((await getSecret(stack, name))?.metadata.resourceVersion, foreign.metadata.resourceVersion, 'a Secret it does not own is untouched');

    // The same leftover, owned by the KMSDeployment (re-created by hand from the operator's Secret, so with
    // its labels and ownerReference): replaced by a kubernetes.io/tls one. The labels put it in the
    // operator's cache, so its event wakes the owner; without them only the ChildConflict recheck (60 s)
    // would, and this wait would race that timer.
    await stack.kube.delete(resources.Secret, NS, name);
    const owner = { apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment', name: 'tenant-b', uid: deployment.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
    await stack.kube.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS, labels: childLabels(deployment), ownerReferences: [owner] }, type: 'Opaque', data: { note: Buffer.from('left over').toString('base64') } });
    await waitForCondition(stack, 'tenant-b', { status: 'True', reason: 'Issued' });
    const secret = await waitFor('the replaced Secret', async () => {
      const found = await getSecret(stack, name);
      return found?.type === 'kubernetes.io/tls' ? found : undefined;
    });
    assert.equal(secret.metadata.ownerReferences?.[0]?.name, 'tenant-b');
    assert.equal(secret.data?.['note'], undefined);

    // Without the labels it is outside the cache: the next reconcile reads it from the API server and replaces it too.
    await stack.kube.delete(resources.Secret, NS, name);
    const unlabelled = await stack.kube.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS, ownerReferences: [owner] }, type: 'Opaque', data: { note: Buffer.from('left over').toString('base64') } });
    await reconcileNow(stack, 'tenant-b');
    const again = await waitFor('the unlabelled Secret replaced', async () => {
      const found = await getSecret(stack, name);
      return found?.type === 'kubernetes.io/tls' && found.metadata.uid !== unlabelled.metadata.uid ? found : undefined;
    });
    assert.equal(again.data?.['note'], undefined);
  });

  it('StaticKey mode without MinIO TLS issues no certificates', async () => {
    await stack.kube.create(kmsDeployment('dev', inNamespace(NS), autoEncrypting, withMinio({ tls: { enabled: false } })));
    const condition = await waitForCondition(stack, 'dev', { status: 'True', reason: 'NotUsed' });
    assert.match(condition.message, /mode StaticKey runs without KES/);
    for (const name of Object.values(pkiNames('dev'))) assert.equal(await getSecret(stack, name), undefined, name);
  });
});
