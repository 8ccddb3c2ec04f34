import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  certificateChecksum,
  createCA,
  issueClientCertificate,
  kesIdentity,
  kesServerDnsNames,
  parseCertificateBundle,
  parseCertificatePem,
  validatePkiPolicy,
  defaultPkiPolicy,
  pkiPolicyFor,
  type Decision,
  type IssuedAuthority,
  type LeafKind,
} from '../../../src/pki/index.ts';
import { OpenSSL, T0, accepted, at, day, desired, hour, reconcile, type SecretStore } from './support.ts';

const validity = defaultPkiPolicy.validityMs;
const renewBefore = defaultPkiPolicy.renewBeforeMs;
const clients: LeafKind[] = ['minioClient', 'operatorClient'];

function issued(decision: Decision | undefined): Extract<Decision, { action: 'issue' }> {
  assert.ok(decision && decision.action === 'issue', `expected an issue decision, got ${JSON.stringify(decision)}`);
  return decision;
}

function leafPem(store: SecretStore, kind: LeafKind): string {
  const pem = store.leaves[kind]?.['tls.crt'];
  assert.ok(pem, `${kind} has no certificate`);
  return pem;
}

describe('planning certificates', () => {
  const openssl = new OpenSSL();
  let initial: SecretStore;
  after(() => openssl.cleanup());

  before(async () => {
    const first = await reconcile({ ca: undefined, leaves: {} }, { now: T0 });
    initial = first.store;
  });

  it('issues everything the first time, verifiable with openssl against the trust bundle', async () => {
    const first = await reconcile({ ca: undefined, leaves: {} }, { now: T0 });
    const plan = accepted(first.result);
    assert.equal(issued(plan.ca).reason, 'Missing');
    for (const kind of ['kesServer', ...clients] as LeafKind[]) assert.equal(issued(plan.leaves[kind]).reason, 'Missing');
    assert.deepEqual(plan.previousCAs, []);
    assert.equal(first.status.condition.reason, 'Issued');
    assert.equal(first.status.condition.status, 'True');
    assert.equal(first.status.certificates?.notAfter, at(validity).toISOString());

    const store = first.store;
    const bundle = store.ca?.['ca.crt'] ?? '';
    assert.equal(parseCertificateBundle(bundle).length, 1);
    assert.equal(store.ca?.['tls.crt'], bundle);
    for (const [kind, purpose] of [['kesServer', 'sslserver'], ['minioClient', 'sslclient'], ['operatorClient', 'sslclient']] as const) {
      assert.equal(store.leaves[kind]?.['ca.crt'], bundle);
      const [ok, out] = openssl.verify(bundle, leafPem(store, kind), at(day), purpose);
      assert.ok(ok, `${kind}: ${out}`);
    }
    assert.deepEqual(parseCertificatePem(leafPem(store, 'kesServer')).info.dnsNames, kesServerDnsNames('tenant-a', 'storage', 'cluster.local'));
    assert.deepEqual(first.status.identities, { minio: kesIdentity(leafPem(store, 'minioClient')), operator: kesIdentity(leafPem(store, 'operatorClient')) });
    assert.equal(first.status.certificates?.caNotAfter, at(4 * validity).toISOString());
  });

  it('keeps everything, byte for byte, when nothing changed', async () => {
    const again = await reconcile(initial, { now: at(day) });
    const plan = accepted(again.result);
    assert.deepEqual(plan.ca, { action: 'keep' });
    for (const decision of Object.values(plan.leaves)) assert.deepEqual(decision, { action: 'keep' });
    assert.deepEqual(again.store, initial);
    assert.equal(again.status.condition.reason, 'Issued');
    assert.equal(again.material?.renewAt?.toISOString(), at(validity - renewBefore).toISOString());
    const before = await reconcile(initial, { now: at(2 * day) });
    assert.equal(certificateChecksum(again.material!), certificateChecksum(before.material!));
  });

  it('renews leaves once less than renewBefore remains, keeping the client identities', async () => {
    const early = await reconcile(initial, { now: at(validity - renewBefore - hour) });
    assert.ok(Object.values(accepted(early.result).leaves).every((d) => d.action === 'keep'));

    // Renewal by the CA every pod already trusts needs no settled rollout.
    const due = await reconcile(initial, { now: at(validity - renewBefore + hour), workloadsSettled: false });
    const plan = accepted(due.result);
    assert.deepEqual(plan.ca, { action: 'keep' });
    for (const kind of ['kesServer', ...clients] as LeafKind[]) {
      const decision = issued(plan.leaves[kind]);
      assert.equal(decision.reason, 'Expiring');
      assert.match(decision.message, /^the certificate expires at 2030-04-01T00:00:00.000Z, within 720h$/);
    }
    for (const kind of clients) {
      assert.notEqual(leafPem(due.store, kind), leafPem(initial, kind));
      assert.equal(kesIdentity(leafPem(due.store, kind)), kesIdentity(leafPem(initial, kind)), `${kind} identity changed`);
    }
    assert.notEqual(kesIdentity(leafPem(due.store, 'kesServer')), kesIdentity(leafPem(initial, 'kesServer')), 'server keys are fresh on renewal');
    assert.equal(due.status.condition.reason, 'Renewing');
    assert.match(due.status.condition.message, /KES server certificate issued \(Expiring: /);
    assert.notEqual(certificateChecksum(due.material!), certificateChecksum((await reconcile(initial, { now: at(day) })).material!));

    const expired = await reconcile(initial, { now: at(validity + hour) });
    assert.match(issued(accepted(expired.result).leaves.minioClient).message, /^the certificate expired at /);
  });

  it('re-issues only the server certificate when its names change', async () => {
    const changed = await reconcile(initial, { now: at(day), desired: desired({ serverDnsNames: kesServerDnsNames('tenant-a', 'storage', 'corp.example') }) });
    const plan = accepted(changed.result);
    const decision = issued(plan.leaves.kesServer);
    assert.equal(decision.reason, 'SANsChanged');
    assert.match(decision.message, /tenant-a-kes\.storage\.svc\.cluster\.local\].*tenant-a-kes\.storage\.svc\.corp\.example\]$/);
    assert.deepEqual(plan.leaves.minioClient, { action: 'keep' });
    assert.ok(parseCertificatePem(leafPem(changed.store, 'kesServer')).info.dnsNames.includes('tenant-a-kes.storage.svc.corp.example'));
    // The order of names does not matter.
    const reordered = await reconcile(initial, { now: at(day), desired: desired({ serverDnsNames: [...kesServerDnsNames('tenant-a', 'storage')].reverse() }) });
    assert.deepEqual(accepted(reordered.result).leaves.kesServer, { action: 'keep' });
  });

  it('replaces the CA, then the leaf keys, when the key type changes', async () => {
    const want = desired({ keyAlgorithm: 'ECDSA-P384' });
    const step1 = await reconcile(initial, { now: at(day), desired: want });
    const plan1 = accepted(step1.result);
    assert.equal(issued(plan1.ca).reason, 'KeyTypeChanged');
    for (const kind of ['kesServer', ...clients] as LeafKind[]) {
      assert.deepEqual(plan1.leaves[kind], {
        action: 'keep',
        pending: { reason: 'KeyTypeChanged', message: 'the key is ECDSA-P256, spec wants ECDSA-P384', waitingFor: 'every KES and MinIO pod to trust the new CA' },
      });
    }
    assert.equal(parseCertificatePem(step1.store.ca?.['tls.crt'] ?? '').info.keyAlgorithm, 'ECDSA-P384');

    const step2 = await reconcile(step1.store, { now: at(day + hour), desired: want, workloadsSettled: true });
    const plan2 = accepted(step2.result);
    for (const kind of ['kesServer', ...clients] as LeafKind[]) {
      const decision = issued(plan2.leaves[kind]);
      assert.equal(decision.reason, 'KeyTypeChanged');
      assert.equal(decision.reuseKey, false);
      assert.equal(parseCertificatePem(leafPem(step2.store, kind)).info.keyAlgorithm, 'ECDSA-P384');
    }
    assert.notEqual(kesIdentity(leafPem(step2.store, 'minioClient')), kesIdentity(leafPem(initial, 'minioClient')), 'a new key is a new identity');
  });

  it('re-issues a leaf whose Secret was edited, and only that one', async () => {
    const other = await createCA({ subject: { commonName: 'x' }, validityMs: 365 * day, now: T0 });
    const edits: [string, Partial<Record<string, string>>, RegExp][] = [
      ['foreign key', { 'tls.key': other.keyPem }, /^the private key in "tls.key" does not belong to the certificate in "tls.crt"$/],
      ['garbage cert', { 'tls.crt': 'garbage' }, /^key "tls.crt" holds no PEM "CERTIFICATE" block$/],
      ['no key', { 'tls.key': undefined }, /^key "tls.key" is missing or empty$/],
      ['client cert as server cert', { 'tls.crt': leafPem(initial, 'minioClient'), 'tls.key': initial.leaves.minioClient?.['tls.key'] }, /not a serverAuth leaf/],
    ];
    for (const [what, edit, message] of edits) {
      const store: SecretStore = { ...initial, leaves: { ...initial.leaves, kesServer: { ...initial.leaves.kesServer, ...edit } } };
      const next = await reconcile(store, { now: at(day) });
      const plan = accepted(next.result);
      const decision = issued(plan.leaves.kesServer);
      assert.equal(decision.reason, 'Corrupt', what);
      assert.match(decision.message, message, what);
      assert.deepEqual(plan.leaves.minioClient, { action: 'keep' }, what);
      assert.deepEqual(plan.ca, { action: 'keep' }, what);
      assert.ok(openssl.verify(initial.ca?.['ca.crt'] ?? '', leafPem(next.store, 'kesServer'), at(day), 'sslserver')[0], what);
    }
  });

  it('re-issues a deleted Secret and a corrupt CA', async () => {
    const gone = await reconcile({ ...initial, leaves: { ...initial.leaves, operatorClient: undefined } }, { now: at(day) });
    assert.equal(issued(accepted(gone.result).leaves.operatorClient).reason, 'Missing');
    assert.deepEqual(accepted(gone.result).leaves.kesServer, { action: 'keep' });

    const badCA = await reconcile({ ...initial, ca: { ...initial.ca, 'tls.key': 'edited' } }, { now: at(day) });
    const plan = accepted(badCA.result);
    assert.equal(issued(plan.ca).reason, 'Corrupt');
    assert.match(issued(plan.ca).message, /^CA Secret "tenant-a-ca": key "tls.key" is not an unencrypted PEM private key$/);
    // The replaced CA signed the running leaves, so it stays trusted, and the leaves wait for the new CA to spread.
    assert.equal(plan.previousCAs.length, 1);
    assert.deepEqual(plan.leaves.kesServer, {
      action: 'keep',
      pending: { reason: 'IssuerChanged', message: 'the certificate is not signed by the current CA', waitingFor: 'every KES and MinIO pod to trust the new CA' },
    });
  });

  it('moves a leaf signed by a foreign CA to the current CA once the pods have settled', async () => {
    const foreign = await createCA({ subject: { commonName: 'foreign' }, validityMs: 365 * day, now: T0 });
    const cert = await issueClientCertificate({ ca: foreign.authority, subject: { commonName: 'm' }, validityMs: validity, now: T0 });
    const store: SecretStore = {
      ...initial,
      leaves: { ...initial.leaves, minioClient: { ...initial.leaves.minioClient, 'tls.crt': cert.certPem, 'tls.key': cert.keyPem } },
    };
    const rolling = await reconcile(store, { now: at(day), workloadsSettled: false });
    assert.equal(accepted(rolling.result).leaves.minioClient?.action, 'keep');
    assert.equal((accepted(rolling.result).leaves.minioClient as { pending?: { reason: string } }).pending?.reason, 'IssuerChanged');
    const settled = await reconcile(store, { now: at(day), workloadsSettled: true });
    const decision = issued(accepted(settled.result).leaves.minioClient);
    assert.equal(decision.reason, 'IssuerChanged');
    assert.equal(decision.reuseKey, true);
    assert.equal(kesIdentity(leafPem(settled.store, 'minioClient')), cert.certificate.info.kesIdentity);
  });

  it('refuses policies that would loop or make no sense, naming the field', () => {
    assert.deepEqual(validatePkiPolicy(defaultPkiPolicy), []);
    assert.deepEqual(validatePkiPolicy({ ...defaultPkiPolicy, renewBeforeMs: defaultPkiPolicy.validityMs }), ['spec.tls.renewBefore: must be shorter than spec.tls.validity']);
    assert.deepEqual(validatePkiPolicy({ ...defaultPkiPolicy, validityMs: 60_000 }), ['spec.tls.validity: must be at least 1h']);
    assert.deepEqual(defaultPkiPolicy, pkiPolicyFor({ validityMs: 2160 * hour, renewBeforeMs: 720 * hour }));
    assert.equal(defaultPkiPolicy.caValidityMs, 8640 * hour);
    assert.deepEqual(validatePkiPolicy({ ...defaultPkiPolicy, caValidityMs: defaultPkiPolicy.caRenewBeforeMs }), [
      'spec.tls.caValidity: must be longer than both spec.tls.caRenewBefore and spec.tls.validity',
    ]);
    assert.deepEqual(validatePkiPolicy({ ...defaultPkiPolicy, keyAlgorithm: 'RSA' as never }), ['spec.tls.keyAlgorithm: must be one of ECDSA-P256, ECDSA-P384']);
  });
});

describe('planning with a user-supplied CA', () => {
  const userCASecret = 'corp-ca';
  let corp: IssuedAuthority;
  before(async () => {
    corp = await createCA({ subject: { commonName: 'corp' }, validityMs: 365 * day, now: T0 });
  });

  it('signs with it and never writes its Secret', async () => {
    const caData = { 'tls.crt': corp.certPem, 'tls.key': corp.keyPem };
    const first = await reconcile({ ca: caData, leaves: {} }, { now: T0, userCASecret });
    const plan = accepted(first.result);
    assert.deepEqual(plan.ca, { action: 'keep' });
    assert.equal(first.store.ca, caData);
    assert.equal(first.material?.ca.keyPem, undefined);
    assert.equal(first.store.leaves.kesServer?.['ca.crt'], corp.certPem);
    assert.equal(first.status.condition.reason, 'Issued');
  });

  it('reports InvalidCASecret, changes nothing and never shows the key', async () => {
    const other = await createCA({ subject: { commonName: 'other' }, validityMs: 365 * day, now: T0 });
    const store: SecretStore = { ca: { 'tls.crt': corp.certPem, 'tls.key': other.keyPem }, leaves: {} };
    const outcome = await reconcile(store, { now: T0, userCASecret });
    assert.equal(outcome.result.ok, false);
    assert.equal(outcome.store, store);
    assert.deepEqual(outcome.status, {
      condition: {
        status: 'False',
        reason: 'InvalidCASecret',
        message: 'CA Secret "corp-ca" (spec.tls.caSecretRef): the private key in "tls.key" does not belong to the certificate in "tls.crt"',
      },
    });
    const missing = await reconcile({ ca: undefined, leaves: {} }, { now: T0, userCASecret });
    assert.equal(missing.status.condition.message, 'CA Secret "corp-ca" (spec.tls.caSecretRef): was not found');
  });

  it('cuts leaves short at the CA expiry, warns, and does not re-issue them in a loop', async () => {
    const caData = { 'tls.crt': corp.certPem, 'tls.key': corp.keyPem };
    const nearEnd = at(365 * day - 40 * day);
    const first = await reconcile({ ca: caData, leaves: {} }, { now: nearEnd, userCASecret });
    assert.equal(first.material?.notAfter.toISOString(), corp.certificate.info.notAfter.toISOString());
    assert.match(accepted(first.result).warnings[0] ?? '', /^the CA expires at 2031-01-01T00:00:00.000Z, sooner than spec.tls.validity allows/);

    const later = await reconcile(first.store, { now: at(365 * day - 10 * day), userCASecret });
    const plan = accepted(later.result);
    for (const decision of Object.values(plan.leaves)) assert.deepEqual(decision, { action: 'keep' });
    assert.deepEqual(later.store, first.store);
    assert.ok(plan.warnings.some((w) => /cannot be renewed past its CA's expiry/.test(w)));
    assert.equal(later.material?.renewAt, undefined, 'nothing is due until the user replaces the CA');
    assert.match(later.status.condition.message, /warning: /);
  });

  it('replaces leaf keys at once when the key type changes and the CA stays', async () => {
    const caData = { 'tls.crt': corp.certPem, 'tls.key': corp.keyPem };
    const first = await reconcile({ ca: caData, leaves: {} }, { now: T0, userCASecret });
    const changed = await reconcile(first.store, { now: at(day), userCASecret, desired: desired({ keyAlgorithm: 'ECDSA-P384' }), workloadsSettled: false });
    const plan = accepted(changed.result);
    assert.deepEqual(plan.ca, { action: 'keep' });
    for (const kind of ['kesServer', ...clients] as LeafKind[]) {
      assert.equal(issued(plan.leaves[kind]).reason, 'KeyTypeChanged');
      assert.equal(parseCertificatePem(leafPem(changed.store, kind)).info.keyAlgorithm, 'ECDSA-P384');
    }
  });
});

