// spec.tls.caSecretRef against a real kube-apiserver and Vault: a CA made by openssl signs the leaves
// and its Secret is never written; an unusable one stops the PKI with InvalidCASecret and nothing else
// is created or changed.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { conditionOf, getSecret, kesDeployment, opensslCA, opensslVerifies, pkiNames, reconcileNow, secretContents, startPkiStack, vaultDeployment, waitForCondition } from './fixture.ts';
import { suiteFixture } from '../../support/suite.ts';
import { putSecret } from '../../support/kube.ts';

const NS = 'pki-user-ca';

describe('a CA of the user (spec.tls.caSecretRef)', { timeout: 600_000 }, () => {
  const stack = suiteFixture(() => startPkiStack(NS));
  const corp = opensslCA('Example Corp Storage CA');
  const other = opensslCA('Some other CA');
  const leafNames = (name: string) => {
    const { kesServer, minioClient, operatorClient } = pkiNames(name);
    return [kesServer, minioClient, operatorClient];
  };
  const versions = async (names: string[]) => Promise.all(names.map(async (name) => (await getSecret(stack, name))?.metadata.resourceVersion));

  before(async () => {
    await putSecret(stack.kube, NS, 'corp-ca', { 'tls.crt': corp.cert, 'tls.key': corp.key });
  });


  it('signs the leaves, is the trust bundle, and is never written', async () => {
    const before = await getSecret(stack, 'corp-ca');
    await stack.kube.create(vaultDeployment(stack, 'tenant-u', { tls: { caSecretRef: { name: 'corp-ca' } } }));
    await waitForCondition(stack, 'tenant-u', { status: 'True', reason: 'Issued' });
    for (const name of leafNames('tenant-u')) {
      const data = await secretContents(stack, name);
      const purpose = name.endsWith('-kes-tls') ? 'sslserver' : 'sslclient';
      assert.ok(opensslVerifies(corp.cert, data['tls.crt'] ?? '', purpose), `${name} is signed by the user's CA`);
      assert.ok(opensslVerifies(data['ca.crt'] ?? '', data['tls.crt'] ?? '', purpose), `${name}'s trust bundle is the user's CA`);
      assert.ok(!opensslVerifies(other.cert, data['tls.crt'] ?? '', purpose), 'and only that CA');
    }
    assert.equal(await getSecret(stack, pkiNames('tenant-u').ca), undefined, 'no CA of the operator is created');
    for (let i = 0; i < 3; i++) await reconcileNow(stack, 'tenant-u');
    const after = await getSecret(stack, 'corp-ca');
    assert.equal(after?.metadata.resourceVersion, before?.metadata.resourceVersion);
    assert.equal(after?.metadata.ownerReferences, undefined);
    const managers = (after?.metadata['managedFields'] as { manager?: string }[] | undefined)?.map((f) => f.manager);
    assert.ok(!managers?.includes('kmsstack-operator'), `managers of the user's Secret: ${managers?.join(', ')}`);
  });

  it('a malformed CA Secret gives InvalidCASecret with a clear message and creates nothing', async () => {
    await putSecret(stack.kube, NS, 'mixed-ca', { 'tls.crt': corp.cert, 'tls.key': other.key });
    await stack.kube.create(vaultDeployment(stack, 'tenant-x', { tls: { caSecretRef: { name: 'mixed-ca' } } }));
    const condition = await waitForCondition(stack, 'tenant-x', { status: 'False' });
    assert.equal(condition.reason, 'InvalidCASecret');
    assert.equal(condition.message, 'CA Secret "mixed-ca" (spec.tls.caSecretRef): the private key in "tls.key" does not belong to the certificate in "tls.crt"');
    assert.doesNotMatch(condition.message, /BEGIN/);
    assert.equal((await conditionOf(stack, 'tenant-x', 'VaultConfigured'))?.status, 'Unknown', 'later stages wait');
    for (const name of [...Object.values(pkiNames('tenant-x')), 'tenant-x-kes-vault-approle']) assert.equal(await getSecret(stack, name), undefined, name);
    assert.equal(await kesDeployment(stack, 'tenant-x'), undefined);

    await stack.kube.create(vaultDeployment(stack, 'tenant-y', { tls: { caSecretRef: { name: 'no-such-secret' } } }));
    const missing = await waitForCondition(stack, 'tenant-y', { status: 'False' });
    assert.equal(missing.message, 'CA Secret "no-such-secret" (spec.tls.caSecretRef): was not found');
  });

  it('a working CA that becomes unusable leaves every certificate as it is; fixing it recovers', async () => {
    const leaves = leafNames('tenant-u');
    const before = await versions(leaves);
    await putSecret(stack.kube, NS, 'corp-ca', { 'tls.crt': corp.cert, 'tls.key': 'not a key' });
    // The user's Secret is not watched: the operator looks again at resync, or when poked as here.
    await reconcileNow(stack, 'tenant-u');
    const broken = await waitForCondition(stack, 'tenant-u', { status: 'False', reason: 'InvalidCASecret' });
    assert.match(broken.message, /key "tls\.key" is not an unencrypted PEM private key/);
    assert.deepEqual(await versions(leaves), before, 'no leaf Secret changed');

    await putSecret(stack.kube, NS, 'corp-ca', { 'tls.crt': corp.cert, 'tls.key': corp.key });
    await reconcileNow(stack, 'tenant-u');
    await waitForCondition(stack, 'tenant-u', { status: 'True', reason: 'Issued' });
    assert.deepEqual(await versions(leaves), before, 'the certificates were still good and are kept');
  });
});
