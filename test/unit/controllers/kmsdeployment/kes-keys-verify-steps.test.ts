import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as yaml from 'js-yaml';
import { defaultKesImage } from '../../../../src/api/index.ts';
import { kesStep } from '../../../../src/controllers/kmsdeployment/steps/kes.ts';
import { keysStep } from '../../../../src/controllers/kmsdeployment/steps/keys.ts';
import { verifyStep } from '../../../../src/controllers/kmsdeployment/steps/verify.ts';
import { KesClient } from '../../../../src/kes/client.ts';
import type { KesConfig } from '../../../../src/kes/config.ts';
import { ACCEPT_NEW_KEY_ANNOTATION, readLedger } from '../../../../src/kes/key-records.ts';
import type { KubeObject } from '../../../../src/runtime/kube/resources.ts';
import { staticSpec, vaultSpec } from '../../kes/fixtures.ts';
import { startStandIn, type StandIn } from '../../kes/kes-standin.ts';
import { assertEmptyListingFails, decoded, opaqueSecret, putKesClientIdentities, tlsSecret, World, tenantCertificates, type TenantCertificates } from './step-harness.ts';
import { kesStatusOf } from '../../../../src/controllers/kmsdeployment/context.ts';
import { identityOf, issue } from '../../kes/tls-fixture.ts';

let certs: TenantCertificates;
before(async () => {
  certs = await tenantCertificates();
});

/** A world in which the PKI and Vault stages have done their part. */
function provisioned(): World {
  const world = new World();
  world.put('Secret', tlsSecret('tenant-a-kes-tls', certs.kesServer, certs.ca.cert));
  putKesClientIdentities(world, certs);
  world.put('Secret', opaqueSecret('vault-ca', { 'ca.crt': 'VAULT CA PEM' }), 'server');
  world.put('Secret', opaqueSecret('tenant-a-kes-vault-approle', { 'role-id': 'r', 'secret-id': 's' }, { 'kmsstack.io/approle-checksum': 'approle-sum' }));
  return world;
}

const child = (context: ReturnType<World['context']>, kind: 'Secret' | 'Deployment' | 'Service', name: string): KubeObject | undefined =>
  context.children.get(kind, name);

describe('KES step', () => {
  it('is not used in StaticKey mode and declares nothing', async () => {
    const context = new World().context(staticSpec());
    assert.deepEqual(await kesStep().run(context), { status: 'True', reason: 'NotUsed', message: 'mode StaticKey runs without KES' });
    assert.deepEqual(context.children.all(), []);
  });

  it('waits for the certificates and the AppRole Secret before declaring anything', async () => {
    const empty = new World().context(vaultSpec());
    const result = await kesStep().run(empty);
    assert.equal(result.reason, 'WaitingForCertificates');
    assert.match(result.message, /tenant-a-minio-kes-identity has no tls\.crt yet.*tenant-a-kes-tls has no server certificate/);
    assert.deepEqual(empty.children.all(), []);

    const world = provisioned();
    world.cached.delete('Secret/tenant-a-kes-vault-approle');
    world.stored.delete('Secret/tenant-a-kes-vault-approle');
    assert.equal((await kesStep().run(world.context(vaultSpec()))).reason, 'WaitingForVaultCredentials');

    const noCa = provisioned();
    noCa.stored.delete('Secret/vault-ca');
    assert.deepEqual(await kesStep().run(noCa.context(vaultSpec())), {
      status: 'False', reason: 'VaultCAMissing', message: 'Secret vault-ca (spec.vault.tls.caSecretRef) has no key ca.crt', requeueAfterMs: 10_000,
    });
  });

  it('declares config, Deployment and Service with the identities hashed from the PKI Secrets', async () => {
    const context = provisioned().context(vaultSpec(), { appRoleChecksum: 'from-vault-step' });
    const result = await kesStep().run(context);
    assert.equal(result.status, 'False');
    assert.equal(result.reason, 'WaitingForPods');
    const config = yaml.load(decoded(child(context, 'Secret', 'tenant-a-kes-config'), 'config.yaml')) as KesConfig;
    assert.deepEqual(config.policy.minio.identities, [identityOf(certs.minioClient.cert)]);
    assert.deepEqual(config.policy.operator.identities, [identityOf(certs.operatorClient.cert)]);
    const deployment = child(context, 'Deployment', 'tenant-a-kes') as unknown as { spec: { template: { metadata: { annotations: Record<string, string> } } } };
    assert.equal(deployment.spec.template.metadata.annotations['kmsstack.io/vault-approle-checksum'], 'from-vault-step');
    assert.ok(child(context, 'Service', 'tenant-a-kes'));
    assert.deepEqual(kesStatusOf(context), {
      endpoint: 'https://tenant-a-kes.storage.svc.cluster.local:7373',
      image: defaultKesImage,
      readyReplicas: 0,
      minioIdentity: identityOf(certs.minioClient.cert),
      operatorIdentity: identityOf(certs.operatorClient.cert),
    });
  });

  it('is Available once the cached Deployment runs the declared configuration on all replicas', async () => {
    const world = provisioned();
    const first = world.context(vaultSpec());
    await kesStep().run(first);
    const declared = structuredClone(child(first, 'Deployment', 'tenant-a-kes')) as KubeObject & { spec: { template: { metadata: { annotations: Record<string, string> } } } };
    world.put('Deployment', { ...declared, metadata: { ...declared.metadata, generation: 2 }, status: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2, readyReplicas: 2 } });
    assert.deepEqual(await kesStep().run(world.context(vaultSpec())), { status: 'True', reason: 'Available', message: 'KES: 2/2 pods ready' });

    // A renewed server certificate changes the checksum: KES must roll before it counts as available again.
    const renewed = await issue(certs.ca, 'tenant-a-kes', 'server');
    world.put('Secret', tlsSecret('tenant-a-kes-tls', renewed, certs.ca.cert));
    const again = world.context(vaultSpec());
    const result = await kesStep().run(again);
    assert.equal(result.reason, 'WaitingForPods');
    const annotations = (child(again, 'Deployment', 'tenant-a-kes') as typeof declared).spec.template.metadata.annotations;
    assert.notEqual(annotations['kmsstack.io/config-checksum'], declared.spec.template.metadata.annotations['kmsstack.io/config-checksum']);
  });

  it('reports a spec KES cannot run with instead of declaring a broken config', async () => {
    const spec = vaultSpec({ extra: { kes: { keys: [{ name: 'minio-key-1' }, { name: 'bad.name' }] } } });
    const context = provisioned().context(spec);
    const result = await kesStep().run(context);
    assert.equal(result.reason, 'InvalidConfiguration');
    assert.match(result.message, /spec\.kes\.keys\[1\]\.name/);
    assert.deepEqual(context.children.all(), []);
  });
});

describe('keys and verify steps against a KES stand-in', () => {
  let kes: StandIn;
  const endpoint = () => kes.url;
  const keyPaths = (...keys: string[]) => keys.flatMap((k) => [`/v1/key/generate/${k}`, `/v1/key/decrypt/${k}`]);
  before(async () => {
    kes = await startStandIn(certs.kesServer, certs.ca.cert, {
      operator: { allow: ['/v1/key/create/minio-key-1', '/v1/key/create/minio-key-2', '/v1/key/generate/minio-key-1', '/v1/key/generate/minio-key-2', '/v1/key/list/*', '/v1/status', '/v1/key/delete/*'], identities: [identityOf(certs.operatorClient.cert)] },
      minio: { allow: keyPaths('minio-key-1', 'minio-key-2'), identities: [identityOf(certs.minioClient.cert)] },
    });
  });
  after(() => kes.close());

  /** Runs a step and stores what it declared, as the runtime's apply would. */
  async function reconcileIn(world: World, step: ReturnType<typeof keysStep>, spec = vaultSpec(), annotations?: Record<string, string>) {
    const context = world.context(spec);
    const object = annotations ? { ...context.object, metadata: { ...context.object.metadata, annotations } } : context.object;
    const result = await step.run({ ...context, object });
    for (const declared of context.children.all()) world.put(declared.kind as 'Secret', declared);
    return { result, context };
  }
  const since = (count: number) => kes.requests.slice(count).map((r) => `${r.method} ${r.path}`);
  const canaries = 'tenant-a-kes-key-canaries';

  it('creates the keys of a fresh prefix without listing it (KES answers 502 there), then only checks their canaries', async () => {
    kes.keys.clear();
    const world = provisioned();
    const step = keysStep({ endpoint });
    const start = kes.requests.length;
    const { result, context } = await reconcileIn(world, step);
    assert.deepEqual(result, { status: 'True', reason: 'KeysPresent', message: 'master keys present and verified by their canaries: minio-key-1, minio-key-2' });
    assert.deepEqual([...kes.keys.keys()].sort(), ['minio-key-1', 'minio-key-2']);
    assert.ok(!since(start).some((r) => r.includes('/v1/key/list/')), 'no listing on the way to the first key');
    assert.deepEqual(world.events.map((e) => e.reason), ['KeyCreated', 'KeyCreated']);
    assert.deepEqual((kesStatusOf(context) as { keys: unknown }).keys, [
      { name: 'minio-key-1', createdAt: '2026-01-01T00:00:00.000Z' },
      { name: 'minio-key-2', createdAt: '2026-01-01T00:00:00.000Z' },
    ]);
    const ledger = readLedger(world.cached.get(`Secret/${canaries}`), undefined);
    assert.deepEqual([...ledger.canaries.keys()].sort(), ['minio-key-1', 'minio-key-2']);
    const generate = kes.requests.find((r) => r.path === '/v1/key/generate/minio-key-1');
    assert.equal(generate?.identity, identityOf(certs.operatorClient.cert), 'canaries are minted with the operator identity (MinIO may generate only with the keys in use)');
    assert.ok(kes.requests.filter((r) => r.path.startsWith('/v1/key/decrypt/')).every((r) => r.identity === identityOf(certs.minioClient.cert)), 'and checked with MinIO identity');

    const steady = kes.requests.length;
    assert.equal((await reconcileIn(world, step)).result.status, 'True');
    assert.deepEqual(since(steady), ['PUT /v1/key/decrypt/minio-key-1', 'PUT /v1/key/decrypt/minio-key-2']);
  });

  it('adopts a key that already exists in Vault and records it', async () => {
    kes.keys.clear();
    kes.keys.set('minio-key-1', Buffer.alloc(32, 7));
    const world = provisioned();
    assert.equal((await reconcileIn(world, keysStep({ endpoint }))).result.status, 'True');
    assert.deepEqual(kes.keys.get('minio-key-1'), Buffer.alloc(32, 7), 'the existing material is kept');
    assert.deepEqual(world.events.map((e) => e.reason).sort(), ['KeyAdopted', 'KeyCreated']);
  });

  it('reports a recorded key that is gone from Vault as KeyMissing and never creates it again', async () => {
    kes.keys.clear();
    const world = provisioned();
    const step = keysStep({ endpoint });
    await reconcileIn(world, step);
    kes.keys.delete('minio-key-1');
    const start = kes.requests.length;
    const { result } = await reconcileIn(world, step);
    assert.equal(result.status, 'False');
    assert.equal(result.reason, 'KeyMissing');
    assert.match(result.message, /master key minio-key-1 \(created 2026-01-01T00:00:00.000Z\) is gone from Vault/);
    assert.match(result.message, /kmsstack\.io\/accept-new-key=minio-key-1@2026-01-01T00:00:00\.000Z/);
    assert.ok(!since(start).some((r) => r.startsWith('PUT /v1/key/create/')), 'no create request');
    assert.equal(kes.keys.has('minio-key-1'), false);
    assert.equal(world.events.at(-1)?.reason, 'KeyMissing');
    assert.equal(world.events.at(-1)?.type, 'Warning');

    // An acceptance for another generation of the key changes nothing; the exact one creates a new key, once.
    assert.equal((await reconcileIn(world, step, vaultSpec(), { [ACCEPT_NEW_KEY_ANNOTATION]: 'minio-key-1@2025-01-01T00:00:00.000Z' })).result.reason, 'KeyMissing');
    const accepted = { [ACCEPT_NEW_KEY_ANNOTATION]: 'minio-key-1@2026-01-01T00:00:00.000Z' };
    assert.equal((await reconcileIn(world, step, vaultSpec(), accepted)).result.status, 'True');
    assert.ok(kes.keys.has('minio-key-1'));
    assert.equal(world.events.at(-1)?.reason, 'NewKeyAccepted');
  });

  it('reports a key whose material changed as KeyReplaced, and EncryptionVerified fails on its canary', async () => {
    kes.keys.clear();
    const world = provisioned();
    await reconcileIn(world, keysStep({ endpoint }));
    assert.equal((await verifyStep({ endpoint }).run(world.context(vaultSpec()))).status, 'True');
    kes.keys.set('minio-key-1', Buffer.alloc(32, 9));
    const { result } = await reconcileIn(world, keysStep({ endpoint }));
    assert.equal(result.reason, 'KeyReplaced');
    assert.deepEqual(kes.keys.get('minio-key-1'), Buffer.alloc(32, 9), 'left as it is');
    const verified = await verifyStep({ endpoint }).run(world.context(vaultSpec()));
    assert.equal(verified.reason, 'KeyReplaced', 'a fresh round trip alone would pass');
  });

  it('deletes keys that left the spec only with keyDeletionPolicy Delete, and tolerates an empty prefix', async () => {
    kes.keys.clear();
    kes.keys.set('retired', Buffer.alloc(32));
    const world = provisioned();
    await reconcileIn(world, keysStep({ endpoint }));
    assert.ok(kes.keys.has('retired'), 'Retain keeps it');
    await reconcileIn(world, keysStep({ endpoint }), vaultSpec({ extra: { keyDeletionPolicy: 'Delete' } }));
    assert.equal(kes.keys.has('retired'), false);
    assert.equal(world.events.at(-1)?.reason, 'KeyDeleted');
    assert.equal(world.events.at(-1)?.type, 'Warning');

    // A recorded key that left the spec is deleted even when listing fails on an emptied prefix.
    kes.keys.clear();
    const only = vaultSpec({ extra: { keyDeletionPolicy: 'Delete', kes: { keys: [{ name: 'minio-key-2' }] }, minio: { keyName: 'minio-key-2' } } });
    const fresh = provisioned();
    await reconcileIn(fresh, keysStep({ endpoint }), vaultSpec({ extra: { keyDeletionPolicy: 'Delete' } }));
    kes.keys.delete('minio-key-2');
    kes.keys.delete('minio-key-1');
    const { result } = await reconcileIn(fresh, keysStep({ endpoint }), only);
    assert.equal(result.reason, 'KeyMissing', 'minio-key-2 is recorded and gone');
    assert.equal(readLedger(fresh.cached.get(`Secret/${canaries}`), undefined).records.has('minio-key-1'), false, 'the deleted key is no longer recorded');
  });

  it('turns KES failures into condition reasons and asks the work queue for a retry', async () => {
    kes.keys.clear();
    kes.keystoreFailing = true;
    try {
      const step = keysStep({ endpoint });
      const first = await step.run(provisioned().context(vaultSpec()));
      assert.equal(first.status, 'False');
      assert.equal(first.reason, 'KeystoreError');
      assert.match(first.message, /HTTP 502: failed to create key.*check the AppRole policy/);
      assert.equal(first.retry, true, 'the work queue\'s rate limiter times the retry (one retry policy)');
    } finally {
      kes.keystoreFailing = false;
    }
  });

  it('answers a listing of an empty prefix as the real KES does', async () => {
    kes.keys.clear();
    await assertEmptyListingFails(new KesClient({ endpoint: kes.url, clientCert: certs.operatorClient.cert, clientKey: certs.operatorClient.key, ca: certs.ca.cert }));
  });

  it('waits for the operator and MinIO identity Secrets', async () => {
    for (const name of ['tenant-a-operator-kes-identity', 'tenant-a-minio-kes-identity']) {
      const world = provisioned();
      world.cached.delete(`Secret/${name}`);
      const result = await keysStep({ endpoint }).run(world.context(vaultSpec()));
      assert.equal(result.reason, 'WaitingForCertificates');
      assert.match(result.message, new RegExp(name));
    }
  });

  it('verifies the round trip and the canary with MinIO identity, and reports a policy denial', async () => {
    kes.keys.clear();
    const world = provisioned();
    await reconcileIn(world, keysStep({ endpoint }));
    assert.deepEqual(await verifyStep({ endpoint }).run(world.context(vaultSpec())), {
      status: 'True',
      reason: 'RoundTripSucceeded',
      message: "generated and decrypted a data key with MinIO's identity and key minio-key-1, and decrypted its canary",
    });
    const generate = kes.requests.findLast((r) => r.path === '/v1/key/generate/minio-key-1');
    assert.equal(generate?.identity, identityOf(certs.minioClient.cert));

    const impostor = provisioned();
    impostor.put('Secret', tlsSecret('tenant-a-minio-kes-identity', certs.operatorClient, certs.ca.cert));
    const denied = await verifyStep({ endpoint }).run(impostor.context(vaultSpec()));
    assert.equal(denied.reason, 'KESPolicyDenied');
    assert.doesNotMatch(JSON.stringify(denied), /PRIVATE KEY/);
  });

  it('skips verification when disabled or in StaticKey mode', async () => {
    assert.equal((await verifyStep({ endpoint }).run(new World().context(vaultSpec({ extra: { verifyEncryption: false } })))).reason, 'Disabled');
    assert.equal((await verifyStep({ endpoint }).run(new World().context(staticSpec()))).reason, 'NotApplicable');
  });
});
