// Certificates that age and a CA that is replaced, against a real kube-apiserver and Vault: a short
// validity makes the operator renew on its own (requeue at renewAt) and roll KES; a deleted CA is
// rotated in three steps, each taken only after the KES rollout (played here, as there is no
// controller-manager) carried the previous one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { kesIdentity, parseCertificateBundle } from '../../../src/pki/index.ts';
import { resources } from '../../../src/runtime/kube/resources.ts';
import { certificatesAnnotation, completeKesRollout, deleteUntilReissued, kesDeployment, kesSecretChecksum, opensslVerifies, pkiNames, reconcileNow, secretContents, startPkiStack, statusOf, vaultDeployment, waitFor, waitForCondition } from './fixture.ts';
import { suiteFixture } from '../../support/suite.ts';

const NS = 'pki-renewal';

const fingerprints = (bundle: string | undefined): string[] => parseCertificateBundle(bundle).map((cert) => cert.info.fingerprint);

describe('renewal and CA rotation', { timeout: 600_000 }, () => {
  const stack = suiteFixture(() => startPkiStack(NS));


  it('a certificate near its end is renewed without a person, keeps client identities, and rolls KES', async () => {
    // Renewal is due 30 s after issue (the least validity the operator accepts is 1h).
    await stack.kube.create(vaultDeployment(stack, 'short', { tls: { validity: '1h', renewBefore: '59m30s' } }));
    await waitForCondition(stack, 'short', { status: 'True', reason: 'Issued' });
    const names = pkiNames('short');
    const first = await secretContents(stack, names.kesServer);
    const identities = (await statusOf(stack, 'short')).kes;
    const firstChecksum = await waitFor('the KES Deployment with a certificates checksum', async () => certificatesAnnotation(await kesDeployment(stack, 'short')), 60_000, 200);
    const issuedAt = Date.now();

    const renewed = await waitFor('the KES server certificate to be renewed', async () => {
      const now = await secretContents(stack, names.kesServer);
      return now['tls.crt'] !== first['tls.crt'] ? now : undefined;
    }, 120_000, 500);
    assert.ok(Date.now() - issuedAt < 90_000, 'renewed at renewAt, not at a resync (10 min here)');
    assert.ok(opensslVerifies(renewed['ca.crt'] ?? '', renewed['tls.crt'] ?? '', 'sslserver'));
    assert.notEqual(renewed['tls.key'], first['tls.key'], 'the server certificate gets a fresh key');

    const expected = await kesSecretChecksum(stack, 'short');
    assert.notEqual(expected, firstChecksum);
    await waitFor('the KES pod template to carry the renewed checksum', async () => {
      const annotation = certificatesAnnotation(await kesDeployment(stack, 'short'));
      return annotation !== firstChecksum && annotation === (await kesSecretChecksum(stack, 'short')) ? true : undefined;
    }, 60_000, 200);
    const minio = await secretContents(stack, names.minioClient);
    assert.equal(kesIdentity(minio['tls.crt'] ?? ''), identities?.minioIdentity, "MinIO's identity survives the renewal");
    const events = await stack.kube.list(resources.Event, NS);
    assert.ok(
      events.items.some((e) => e['reason'] === 'CertificateIssued' && /short-kes-tls: Expiring/.test(String(e['note']))),
      'an event says the KES certificate was renewed because it was expiring',
    );
    await stack.kube.delete(resources.KMSDeployment, NS, 'short');
  });

  it('a deleted CA is rotated in three steps, never leaving a pod with a peer it does not trust', async () => {
    await stack.kube.create(vaultDeployment(stack, 'rot'));
    await waitForCondition(stack, 'rot', { status: 'True', reason: 'Issued' });
    await waitFor('the KES Deployment', () => kesDeployment(stack, 'rot'), 60_000, 200);
    const names = pkiNames('rot');
    const leafNames = [names.kesServer, names.minioClient, names.operatorClient];
    const oldCA = await secretContents(stack, names.ca);
    const [oldFingerprint] = fingerprints(oldCA['tls.crt']);
    const oldLeaves = await Promise.all(leafNames.map((name) => secretContents(stack, name)));
    const identities = (await statusOf(stack, 'rot')).kes;
    await completeKesRollout(stack, 'rot');

    // 1. A new CA; every bundle trusts the new and the old CA; the leaves stay (pods do not trust the new CA yet).
    await deleteUntilReissued(stack, names.ca);
    const newCA = await secretContents(stack, names.ca);
    const [newFingerprint] = fingerprints(newCA['tls.crt']);
    const renewing = await waitForCondition(stack, 'rot', { status: 'True', reason: 'Renewing' });
    await reconcileNow(stack, 'rot');
    assert.match(renewing.message, /KES server certificate to be replaced \(IssuerChanged/);
    for (const [i, name] of leafNames.entries()) {
      const leaf = await secretContents(stack, name);
      assert.equal(leaf['tls.crt'], oldLeaves[i]?.['tls.crt'], `${name} is kept`);
      assert.deepEqual(fingerprints(leaf['ca.crt']), [newFingerprint, oldFingerprint], `${name} trusts both CAs`);
    }
    const twoCaChecksum = await kesSecretChecksum(stack, 'rot');

    // 2. Once KES rolled with the two-CA bundle, the leaves move to the new CA (client keys kept).
    // Only the two-CA template is rolled out here: rolling out the new leaves too would let step 3 run
    // before this step is checked.
    await waitFor('the leaves to be signed by the new CA', async () => {
      await completeKesRollout(stack, 'rot', twoCaChecksum);
      const kes = await secretContents(stack, names.kesServer);
      return opensslVerifies(newCA['tls.crt'] ?? '', kes['tls.crt'] ?? '', 'sslserver') ? true : undefined;
    }, 120_000, 1000);
    const moved = await Promise.all(leafNames.map((name) => secretContents(stack, name)));
    for (const [i, leaf] of moved.entries()) {
      assert.ok(opensslVerifies(newCA['tls.crt'] ?? '', leaf['tls.crt'] ?? '', i === 0 ? 'sslserver' : 'sslclient'), `${leafNames[i]} signed by the new CA`);
    }
    assert.deepEqual(fingerprints(moved[0]?.['ca.crt']), [newFingerprint, oldFingerprint], 'the old CA stays while pods may serve old leaves');
    assert.equal(kesIdentity(moved[1]?.['tls.crt'] ?? ''), identities?.minioIdentity);
    assert.equal(kesIdentity(moved[2]?.['tls.crt'] ?? ''), identities?.operatorIdentity);

    // 3. Once KES rolled with the new leaves, the old CA leaves the bundle.
    // Each leaf Secret is its own write, so wait for all of them, not only the first.
    await waitFor('the old CA to leave every bundle', async () => {
      await completeKesRollout(stack, 'rot');
      const leaves = await Promise.all(leafNames.map((name) => secretContents(stack, name)));
      return leaves.every((leaf) => fingerprints(leaf['ca.crt']).length === 1) ? true : undefined;
    }, 120_000, 1000);
    for (const name of leafNames) assert.deepEqual(fingerprints((await secretContents(stack, name))['ca.crt']), [newFingerprint], name);
    await waitForCondition(stack, 'rot', { status: 'True', reason: 'Issued' });
    assert.deepEqual((await statusOf(stack, 'rot')).kes?.minioIdentity, identities?.minioIdentity);
  });
});
