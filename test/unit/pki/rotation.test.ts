// CA rotation without downtime: pods started from different snapshots of the Secrets must keep
// trusting each other at every step. A "pod" here is the snapshot it mounted; openssl plays the TLS
// peer that verifies the other side's certificate against its own trust bundle.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { certificateChecksum, createCA, kesIdentity, parseCertificateBundle, type LeafKind, type PkiMaterial } from '../../../src/pki/index.ts';
import { OpenSSL, T0, accepted, at, day, desired, hour, reconcile, type SecretStore } from './support.ts';

interface Pod {
  leafPem: string;
  bundlePem: string;
}

interface Pods {
  kes: Pod;
  minio: Pod;
}

function podsOf(store: SecretStore): Pods {
  const pod = (kind: LeafKind): Pod => ({ leafPem: store.leaves[kind]?.['tls.crt'] ?? '', bundlePem: store.leaves[kind]?.['ca.crt'] ?? '' });
  return { kes: pod('kesServer'), minio: pod('minioClient') };
}

const policy = desired({ caValidityMs: 200 * day, caRenewBeforeMs: 100 * day, validityMs: 90 * day, renewBeforeMs: 30 * day });

describe('CA rotation', () => {
  const openssl = new OpenSSL();
  after(() => openssl.cleanup());

  /** MinIO (TLS client) and KES (TLS server) accept each other: each verifies the peer against its own bundle. */
  function talk(minio: Pod, kes: Pod, when: Date): boolean {
    const [serverOk] = openssl.verify(minio.bundlePem, kes.leafPem, when, 'sslserver');
    const [clientOk] = openssl.verify(kes.bundlePem, minio.leafPem, when, 'sslclient');
    return serverOk && clientOk;
  }

  function assertInterop(a: Pods, b: Pods, when: Date, step: string): void {
    for (const [minio, kes, pair] of [[a.minio, b.kes, 'old MinIO -> new KES'], [b.minio, a.kes, 'new MinIO -> old KES'], [b.minio, b.kes, 'new -> new']] as const) {
      assert.ok(talk(minio, kes, when), `${step}: ${pair} fails`);
    }
  }

  const checksum = (material: PkiMaterial | undefined): string => certificateChecksum(material as PkiMaterial);

  it('of the operator CA goes bundle first, leaves second, old CA out last', async () => {
    let store: SecretStore = { ca: undefined, leaves: {} };
    for (const when of [T0, at(61 * day)]) store = (await reconcile(store, { now: when, desired: policy })).store;
    const oldCA = store.ca?.['tls.crt'] ?? '';
    const pods0 = podsOf(store);
    const identity0 = kesIdentity(pods0.minio.leafPem);
    const checksum0 = checksum((await reconcile(store, { now: at(61 * day), desired: policy })).material);

    // Step 1: a new CA; every bundle holds both; the leaves stay as they are.
    const t1 = at(101 * day);
    const r1 = await reconcile(store, { now: t1, desired: policy });
    const plan1 = accepted(r1.result);
    assert.equal(plan1.ca.action === 'issue' && plan1.ca.reason, 'Expiring');
    for (const decision of Object.values(plan1.leaves)) assert.equal(decision.action === 'keep' && decision.pending?.reason, 'IssuerChanged');
    assert.equal(r1.status.condition.reason, 'Renewing');
    const newCA = r1.store.ca?.['tls.crt'] ?? '';
    assert.notEqual(newCA, oldCA);
    assert.equal(r1.store.ca?.['ca.crt'], `${newCA}${oldCA}`);
    assert.deepEqual(parseCertificateBundle(r1.store.leaves.kesServer?.['ca.crt']).map((c) => c.pem), [newCA, oldCA]);
    const pods1 = podsOf(r1.store);
    assertInterop(pods0, pods1, t1, 'step 1');

    // While the rollout runs, nothing moves.
    const r1b = await reconcile(r1.store, { now: at(101 * day + hour), desired: policy, workloadsSettled: false });
    assert.deepEqual(r1b.store, r1.store);

    // Step 2: the rollout settled, so the leaves move to the new CA; both CAs stay trusted.
    const t2 = at(101 * day + 2 * hour);
    const r2 = await reconcile(r1.store, { now: t2, desired: policy, workloadsSettled: true });
    const plan2 = accepted(r2.result);
    for (const decision of Object.values(plan2.leaves)) assert.equal(decision.action === 'issue' && decision.reason, 'IssuerChanged');
    assert.equal(plan2.previousCAs.length, 1);
    const pods2 = podsOf(r2.store);
    assert.equal(kesIdentity(pods2.minio.leafPem), identity0, 'the MinIO identity survives the rotation');
    assert.ok(openssl.verify(newCA, pods2.kes.leafPem, t2, 'sslserver')[0]);
    assertInterop(pods1, pods2, t2, 'step 2');
    // What step 1 prevents: a pod that only trusts the old CA cannot talk to a pod with a new leaf.
    assert.equal(talk(pods0.minio, pods2.kes, t2), false);

    const r2b = await reconcile(r2.store, { now: at(101 * day + 3 * hour), desired: policy, workloadsSettled: false });
    assert.deepEqual(r2b.store, r2.store);
    assert.equal(r2b.status.condition.reason, 'Renewing');

    // Step 3: settled again and no leaf needs the old CA: it leaves the bundle.
    const t3 = at(101 * day + 4 * hour);
    const r3 = await reconcile(r2.store, { now: t3, desired: policy, workloadsSettled: true });
    const plan3 = accepted(r3.result);
    assert.deepEqual(plan3.previousCAs, []);
    for (const decision of Object.values(plan3.leaves)) assert.deepEqual(decision, { action: 'keep' });
    assert.equal(r3.store.ca?.['ca.crt'], newCA);
    const pods3 = podsOf(r3.store);
    assert.equal(pods3.kes.bundlePem, newCA);
    assertInterop(pods2, pods3, t3, 'step 3');
    assert.equal(openssl.verify(pods3.minio.bundlePem, pods0.kes.leafPem, t3, 'sslserver')[0], false, 'the old CA is no longer trusted');
    assert.equal(r3.status.condition.reason, 'Issued');

    // And it stays out, settled or not.
    const r4 = await reconcile(r3.store, { now: at(102 * day), desired: policy, workloadsSettled: false });
    assert.deepEqual(r4.store, r3.store);

    const sums = [checksum0, checksum(r1.material), checksum(r2.material), checksum(r3.material)];
    assert.equal(new Set(sums).size, 4, 'every step changes what pods mount, so every step rolls them');
    assert.equal(checksum(r4.material), sums[3]);
  });

  it('of a user CA keeps the replaced CA trusted from the bundles the leaves carry', async () => {
    const userCASecret = 'corp-ca';
    const c1 = await createCA({ subject: { commonName: 'corp-1' }, validityMs: 365 * day, now: T0 });
    const c2 = await createCA({ subject: { commonName: 'corp-2' }, validityMs: 365 * day, now: at(10 * day) });
    const first = await reconcile({ ca: { 'tls.crt': c1.certPem, 'tls.key': c1.keyPem }, leaves: {} }, { now: T0, userCASecret });
    const pods0 = podsOf(first.store);

    const replaced: SecretStore = { ...first.store, ca: { 'tls.crt': c2.certPem, 'tls.key': c2.keyPem } };
    const r1 = await reconcile(replaced, { now: at(11 * day), userCASecret });
    assert.equal(r1.store.ca, replaced.ca, 'the user CA Secret is not written');
    for (const decision of Object.values(accepted(r1.result).leaves)) assert.equal(decision.action === 'keep' && decision.pending?.reason, 'IssuerChanged');
    assert.equal(r1.store.leaves.minioClient?.['ca.crt'], `${c2.certPem}${c1.certPem}`);
    assertInterop(pods0, podsOf(r1.store), at(11 * day), 'user step 1');

    const r2 = await reconcile(r1.store, { now: at(12 * day), userCASecret });
    assertInterop(podsOf(r1.store), podsOf(r2.store), at(12 * day), 'user step 2');
    const r3 = await reconcile(r2.store, { now: at(13 * day), userCASecret });
    assert.equal(r3.store.leaves.kesServer?.['ca.crt'], c2.certPem);
    assertInterop(podsOf(r2.store), podsOf(r3.store), at(13 * day), 'user step 3');
  });
});
