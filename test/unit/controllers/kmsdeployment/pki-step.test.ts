// The PKI step (CertificatesReady) over in-memory objects: what it declares, how a second reconcile
// renders the same bytes, how it repairs, refuses a bad CA, and advances a CA rotation only when the
// workloads carry the current certificates. The X.509 work underneath is the real src/pki.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kesStep } from '../../../../src/controllers/kmsdeployment/steps/kes.ts';
import { CERTIFICATES_CHECKSUM_ANNOTATION, workloadSettled } from '../../../../src/workload/certificates.ts';
import { pkiDesiredFor, pkiStep, requeueForRenewal } from '../../../../src/controllers/kmsdeployment/steps/pki.ts';
import { CONFIG_CHECKSUM_ANNOTATION } from '../../../../src/workload/labels.ts';
import { decodeSecretData } from '../../../../src/runtime/kube/secret-data.ts';
import { createCA, isIssuedBy, kesIdentity, parseCertificateBundle, parseCertificatePem, secretsChecksum } from '../../../../src/pki/index.ts';
import type { KubeObject } from '../../../../src/runtime/kube/resources.ts';
import { staticSpec, vaultSpec } from '../../kes/fixtures.ts';
import { decoded, opaqueSecret, World } from './step-harness.ts';
import { kesStatusOf } from '../../../../src/controllers/kmsdeployment/context.ts';

const day = 24 * 3_600_000;
const names = { ca: 'tenant-a-ca', kes: 'tenant-a-kes-tls', minio: 'tenant-a-minio-kes-identity', operator: 'tenant-a-operator-kes-identity', minioTls: 'tenant-a-minio-tls' };
const allNames = Object.values(names);
/** The KES chain alone: Vault mode with spec.minio.tls.enabled false. */
const kesChainSpec = () => vaultSpec({ extra: { minio: { keyName: 'minio-key-1', tls: { enabled: false } } } as never });
const secretNames = (context: Context): string[] => context.children.all().filter((c) => c.kind === 'Secret').map((c) => c.metadata.name as string);

type Context = ReturnType<World['context']>;

/** Runs the step, then stores what it declared, as the runtime's apply would. */
async function reconcile(world: World, spec = vaultSpec(), now?: Date): Promise<{ context: Context; result: Awaited<ReturnType<ReturnType<typeof pkiStep>['run']>> }> {
  const base = world.context(spec);
  const context = now ? { ...base, now } : base;
  const result = await pkiStep().run(context);
  for (const child of context.children.all()) world.put(child.kind as 'Secret', structuredClone(child));
  return { context, result };
}

/** A new world after one PKI reconcile of `spec`. */
async function reconcileFresh(spec = vaultSpec()): Promise<{ world: World } & Awaited<ReturnType<typeof reconcile>>> {
  const world = new World();
  return { world, ...(await reconcile(world, spec)) };
}

const stored = (world: World, name: string): KubeObject | undefined => world.stored.get(`Secret/${name}`);
const certOf = (world: World, name: string): string => decoded(stored(world, name), 'tls.crt');
const bundleOf = (world: World, name: string): string[] => parseCertificateBundle(decoded(stored(world, name), 'ca.crt')).map((c) => c.info.fingerprint);
const fingerprintOf = (pem: string): string => parseCertificateBundle(pem)[0]?.info.fingerprint ?? '';

/** A KES Deployment as the cache would show it: the given certificates checksum, rollout done or not. */
function kesDeployment(certificates: string, done: boolean): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'tenant-a-kes', namespace: 'storage', generation: 3 },
    spec: { replicas: 2, template: { metadata: { annotations: { [CERTIFICATES_CHECKSUM_ANNOTATION]: certificates, [CONFIG_CHECKSUM_ANNOTATION]: 'c' } } } },
    status: done
      ? { observedGeneration: 3, replicas: 2, updatedReplicas: 2, availableReplicas: 2, readyReplicas: 2 }
      : { observedGeneration: 3, replicas: 3, updatedReplicas: 1, availableReplicas: 2, readyReplicas: 2 },
  };
}

const kesChecksumNow = (world: World): string =>
  secretsChecksum({ kesServer: decodeSecretData((stored(world, names.kes) as { data?: Record<string, string> }).data) }, ['kesServer']);

describe('PKI step', () => {
  it('is not used in StaticKey mode without MinIO TLS and declares nothing', async () => {
    const { context, result } = await reconcile(new World(), staticSpec({ minio: { keyName: 'dev-key', tls: { enabled: false } } }));
    assert.equal(result.status, 'True');
    assert.equal(result.reason, 'NotUsed');
    assert.deepEqual(context.children.all(), []);
  });

  it("in StaticKey mode (MinIO TLS on by default) issues a CA and MinIO's server certificate, and publishes the CA", async () => {
    const { world, context, result } = await reconcileFresh(staticSpec());
    assert.deepEqual([result.status, result.reason], ['True', 'Issued']);
    assert.deepEqual(secretNames(context), [names.ca, names.minioTls]);
    assert.equal(context.status['kes'], undefined, 'no KES identities without KES');
    const configMap = context.children.get('ConfigMap', 'tenant-a-minio-ca') as { data?: Record<string, string> } | undefined;
    assert.equal(configMap?.data?.['ca.crt'], decoded(stored(world, names.minioTls), 'ca.crt'));
  });

  it("in Vault mode issues MinIO's server certificate for every name clients and peers use, signed by the deployment's CA", async () => {
    const { world, context, result } = await reconcileFresh();
    assert.equal(result.reason, 'Issued');
    assert.deepEqual(secretNames(context), allNames);
    const server = parseCertificatePem(certOf(world, names.minioTls));
    assert.ok(await isIssuedBy(server, parseCertificatePem(certOf(world, names.ca))));
    assert.deepEqual(server.info.extendedKeyUsages, ['serverAuth']);
    const svc = 'storage.svc.cluster.local';
    for (const name of ['tenant-a-minio', `tenant-a-minio.${svc}`, `tenant-a-minio-hl.${svc}`, `*.tenant-a-minio-hl.${svc}`, '*.tenant-a-minio-hl.storage.svc']) {
      assert.ok(server.info.dnsNames.includes(name), name);
    }
    const published = world.stored.get('ConfigMap/tenant-a-minio-ca') as { data?: Record<string, string> } | undefined;
    assert.equal(published?.data?.['ca.crt'], decoded(stored(world, names.minioTls), 'ca.crt'));
    const renamed = await reconcile(world, vaultSpec({ extra: { minio: { keyName: 'minio-key-1' }, tls: { clusterDomain: 'corp.example' } } as never }));
    assert.match(renamed.result.message, /MinIO server certificate issued \(SANsChanged/);
  });

  it('with spec.minio.tls.enabled false issues the KES chain only, and publishes no CA for S3', async () => {
    const { context, result } = await reconcile(new World(), kesChainSpec());
    assert.equal(result.reason, 'Issued');
    assert.deepEqual(secretNames(context), [names.ca, names.kes, names.minio, names.operator]);
    assert.equal(context.children.get('ConfigMap', 'tenant-a-minio-ca'), undefined);
  });

  it('issues the CA and the three leaf Secrets, with identities in status and no key in any message', async () => {
    const { world, context, result } = await reconcileFresh();
    assert.equal(result.status, 'True');
    assert.equal(result.reason, 'Issued');
    assert.equal(result.requeueAfterMs, day, 'a renewal 60 days away is still looked at daily');
    const children = context.children.all().filter((c) => c.kind === 'Secret');
    assert.deepEqual(children.map((c) => c.metadata.name), allNames);
    for (const child of children) {
      assert.equal(child['type'], 'kubernetes.io/tls');
      assert.deepEqual(Object.keys(child['data'] as object), ['ca.crt', 'tls.crt', 'tls.key']);
      assert.equal(child.metadata.ownerReferences?.[0]?.kind, 'KMSDeployment');
      assert.equal(child.metadata.labels?.['app.kubernetes.io/managed-by'], 'kmsstack-operator');
    }
    const caPem = certOf(world, names.ca);
    for (const name of allNames) assert.deepEqual(bundleOf(world, name), [fingerprintOf(caPem)]);
    assert.deepEqual(kesStatusOf(context), { minioIdentity: kesIdentity(certOf(world, names.minio)), operatorIdentity: kesIdentity(certOf(world, names.operator)) });
    const certificates = context.status['certificates'] as { notAfter: string; caNotAfter: string };
    assert.equal(certificates.notAfter, new Date(context.now.getTime() + 90 * day).toISOString());
    assert.equal(certificates.caNotAfter, new Date(context.now.getTime() + 360 * day).toISOString());
    assert.deepEqual(world.events.map((e) => `${e.type} ${e.reason}`), ['Normal CertificateIssued'], 'one Event for the five certificates');
    assert.equal(world.events[0]!.note.split('; ').length, 5);
    const said = [result.message, ...world.events.map((e) => e.note)].join('\n');
    assert.doesNotMatch(said, /PRIVATE KEY|BEGIN/);
    assert.match(said, /tenant-a-kes-tls: Missing/);
  });

  it('renders byte-identical Secrets when nothing changed, so the runtime has nothing to apply', async () => {
    const { world } = await reconcileFresh();
    const first = new Map([...world.stored].map(([key, object]) => [key, structuredClone(object)]));
    world.events.length = 0;
    const { context, result } = await reconcile(world);
    assert.equal(result.reason, 'Issued');
    assert.equal(context.children.all().length, allNames.length + 1, 'the Secrets and the CA ConfigMap');
    for (const child of context.children.all()) assert.deepEqual(child['data'], first.get(`${child.kind}/${child.metadata.name}`)?.['data']);
    assert.deepEqual(world.events, []);
  });

  it('re-issues an edited certificate and restores an edited trust bundle', async () => {
    const { world } = await reconcileFresh();
    const operatorCert = certOf(world, names.operator);
    const kesCert = certOf(world, names.kes);
    const edited = structuredClone(stored(world, names.kes)) as KubeObject & { data: Record<string, string> };
    edited.data['tls.crt'] = Buffer.from('not a certificate').toString('base64');
    world.put('Secret', edited);
    const mangled = structuredClone(stored(world, names.operator)) as KubeObject & { data: Record<string, string> };
    delete mangled.data['ca.crt'];
    world.put('Secret', mangled);

    const { result } = await reconcile(world);
    assert.equal(result.reason, 'Renewing');
    assert.match(result.message, /KES server certificate issued \(Corrupt/);
    assert.notEqual(certOf(world, names.kes), kesCert);
    assert.equal(certOf(world, names.operator), operatorCert, 'a certificate that is fine is kept');
    assert.equal(bundleOf(world, names.operator).length, 1, 'the trust bundle is written back');
  });

  it('refuses an unusable CA of the user and declares nothing', async () => {
    const world = new World();
    world.put('Secret', opaqueSecret('corp-ca', { 'tls.crt': 'garbage', 'tls.key': 'garbage' }), 'server');
    const spec = vaultSpec({ extra: { tls: { caSecretRef: { name: 'corp-ca' } } } as never });
    const { context, result } = await reconcile(world, spec);
    assert.equal(result.status, 'False');
    assert.equal(result.reason, 'InvalidCASecret');
    assert.match(result.message, /^CA Secret "corp-ca" \(spec\.tls\.caSecretRef\): key "tls\.crt"/);
    assert.deepEqual(context.children.all(), []);
    assert.equal(world.events[0]?.type, 'Warning');

    const own = vaultSpec({ extra: { tls: { caSecretRef: { name: 'tenant-a-kes-tls' } } } as never });
    const refused = await reconcile(new World(), own);
    assert.equal(refused.result.reason, 'InvalidCASecret');
    assert.match(refused.result.message, /names a Secret the operator manages itself/);
  });

  it('signs with a CA of the user and never declares that Secret', async () => {
    const ca = await createCA({ subject: { commonName: 'corp-ca' }, validityMs: 720 * day, now: new Date('2025-12-01T00:00:00Z') });
    const world = new World();
    world.put('Secret', opaqueSecret('corp-ca', { 'tls.crt': ca.certPem, 'tls.key': ca.keyPem }), 'server');
    const { context, result } = await reconcile(world, vaultSpec({ extra: { tls: { caSecretRef: { name: 'corp-ca' } } } as never }));
    assert.equal(result.reason, 'Issued');
    assert.deepEqual(secretNames(context), [names.kes, names.minio, names.operator, names.minioTls]);
    assert.deepEqual(bundleOf(world, names.minio), [fingerprintOf(ca.certPem)]);
  });

  it('rotates the CA in steps, each after the KES rollout carried the previous one', async () => {
    const { world } = await reconcileFresh();
    const oldCA = fingerprintOf(certOf(world, names.ca));
    const identities = [certOf(world, names.minio), certOf(world, names.operator)].map(kesIdentity);
    world.put('Deployment', kesDeployment(kesChecksumNow(world), true), 'cache');
    world.stored.delete(`Secret/${names.ca}`);
    world.cached.delete(`Secret/${names.ca}`);

    // 1. New CA; every bundle trusts both; leaves wait for the pods to trust the new CA.
    const first = await reconcile(world);
    assert.equal(first.result.reason, 'Renewing');
    const newCA = fingerprintOf(certOf(world, names.ca));
    assert.notEqual(newCA, oldCA);
    assert.deepEqual(bundleOf(world, names.kes), [newCA, oldCA]);
    assert.match(first.result.message, /to be replaced \(IssuerChanged/);

    // Pods still roll (not settled): nothing moves.
    world.put('Deployment', kesDeployment(kesChecksumNow(world), false), 'cache');
    const waiting = await reconcile(world);
    assert.match(waiting.result.message, /to be replaced \(IssuerChanged/);
    const issued = world.events.filter((e) => e.reason === 'CertificateIssued');
    assert.equal(issued.length, 2, 'one more Event');
    assert.match(issued[1]!.note, new RegExp(`^${names.ca}: [^;]*$`), 'only the CA was issued');

    // 2. The rollout of the two-CA bundle finished: leaves move to the new CA, keeping client keys.
    world.put('Deployment', kesDeployment(kesChecksumNow(world), true), 'cache');
    await reconcile(world);
    const newCAPem = parseCertificatePem(certOf(world, names.ca));
    for (const name of [names.kes, names.minio, names.operator, names.minioTls]) assert.ok(await isIssuedBy(parseCertificatePem(certOf(world, name)), newCAPem), name);
    assert.deepEqual([certOf(world, names.minio), certOf(world, names.operator)].map(kesIdentity), identities);
    assert.deepEqual(bundleOf(world, names.kes), [newCA, oldCA], 'the old CA stays until pods run the new leaves');

    // 3. Pods run the new leaves: the old CA leaves the bundle.
    world.put('Deployment', kesDeployment(kesChecksumNow(world), true), 'cache');
    const done = await reconcile(world);
    assert.deepEqual(bundleOf(world, names.kes), [newCA]);
    assert.equal(done.result.reason, 'Issued');
  });

  it('hands the KES step the Secrets it needs and the checksum its pod template carries', async () => {
    const world = new World();
    world.put('Secret', opaqueSecret('vault-ca', { 'ca.crt': 'VAULT CA PEM' }), 'server');
    const context = world.context(vaultSpec(), { appRoleChecksum: 'approle' });
    await pkiStep().run(context);
    await kesStep().run(context);
    const deployment = context.children.get('Deployment', 'tenant-a-kes') as { spec: { template: { metadata: { annotations: Record<string, string> } } } } | undefined;
    for (const child of context.children.all()) if (child.kind === 'Secret') world.put('Secret', child);
    assert.equal(deployment?.spec.template.metadata.annotations[CERTIFICATES_CHECKSUM_ANNOTATION], kesChecksumNow(world));
    assert.deepEqual(kesStatusOf(context) && Object.keys(kesStatusOf(context) as object).sort(), ['endpoint', 'image', 'minioIdentity', 'operatorIdentity', 'readyReplicas']);
  });
});

describe('PKI step helpers', () => {
  it('a workload is settled when its template carries the checksum and its rollout is complete', () => {
    assert.equal(workloadSettled('Deployment', undefined, 'x'), true, 'no workload, no pods');
    assert.equal(workloadSettled('Deployment', kesDeployment('x', true), 'x'), true);
    assert.equal(workloadSettled('Deployment', kesDeployment('x', false), 'x'), false);
    assert.equal(workloadSettled('Deployment', kesDeployment('old', true), 'x'), false);
  });

  it('names the spec.tls field a policy fails on', () => {
    const result = pkiDesiredFor(vaultSpec({ extra: { tls: { validity: '30m', renewBefore: '10m' } } as never }), { name: 'a', namespace: 'b' });
    assert.deepEqual(result, { errors: ['spec.tls.validity: must be at least 1h'] });
  });

  it('requeues at the renewal, within 1 s and a day', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    assert.equal(requeueForRenewal(undefined, now), undefined);
    assert.equal(requeueForRenewal(new Date(now.getTime() + 30_000), now), 30_000);
    assert.equal(requeueForRenewal(new Date(now.getTime() - 5), now), 1_000);
    assert.equal(requeueForRenewal(new Date(now.getTime() + 60 * day), now), day);
  });
});
