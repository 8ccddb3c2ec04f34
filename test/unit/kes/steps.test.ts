import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as yaml from 'js-yaml';
import { kesStep } from '../../../src/controllers/kmsdeployment/steps/kes.ts';
import { keysStep } from '../../../src/controllers/kmsdeployment/steps/keys.ts';
import { verifyStep } from '../../../src/controllers/kmsdeployment/steps/verify.ts';
import { VAULT_SHARED } from '../../../src/controllers/kmsdeployment/steps/vault.ts';
import type { KesConfig } from '../../../src/kes/config.ts';
import type { KubeObject } from '../../../src/runtime/kube/resources.ts';
import { KeyedBackoff } from '../../../src/runtime/backoff.ts';
import { staticSpec, vaultSpec } from './fixtures.ts';
import { startStandIn, type StandIn } from './kes-standin.ts';
import { decoded, opaqueSecret, tlsSecret, World } from './step-harness.ts';
import { identityOf, issue, makeCa, type Pem } from './tls-fixture.ts';

let ca: Awaited<ReturnType<typeof makeCa>>;
let kesServer: Pem;
let minioClient: Pem;
let operatorClient: Pem;

before(async () => {
  ca = await makeCa();
  kesServer = await issue(ca, 'tenant-a-kes', 'server');
  minioClient = await issue(ca, 'tenant-a-minio', 'client');
  operatorClient = await issue(ca, 'kmsstack-operator', 'client');
});

/** A world in which the PKI and Vault stages have done their part. */
function provisioned(): World {
  const world = new World();
  world.put('Secret', tlsSecret('tenant-a-kes-tls', kesServer, ca.cert));
  world.put('Secret', tlsSecret('tenant-a-minio-kes-identity', minioClient, ca.cert));
  world.put('Secret', tlsSecret('tenant-a-operator-kes-identity', operatorClient, ca.cert));
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
    const context = provisioned().context(vaultSpec(), [[VAULT_SHARED.appRoleChecksum, 'from-vault-step']]);
    const result = await kesStep().run(context);
    assert.equal(result.status, 'False');
    assert.equal(result.reason, 'WaitingForPods');
    const config = yaml.load(decoded(child(context, 'Secret', 'tenant-a-kes-config'), 'config.yaml')) as KesConfig;
    assert.deepEqual(config.policy.minio.identities, [identityOf(minioClient.cert)]);
    assert.deepEqual(config.policy.operator.identities, [identityOf(operatorClient.cert)]);
    const deployment = child(context, 'Deployment', 'tenant-a-kes') as unknown as { spec: { template: { metadata: { annotations: Record<string, string> } } } };
    assert.equal(deployment.spec.template.metadata.annotations['kmsstack.io/vault-approle-checksum'], 'from-vault-step');
    assert.ok(child(context, 'Service', 'tenant-a-kes'));
    assert.deepEqual(context.status['kes'], {
      endpoint: 'https://tenant-a-kes.storage.svc.cluster.local:7373',
      readyReplicas: 0,
      minioIdentity: identityOf(minioClient.cert),
      operatorIdentity: identityOf(operatorClient.cert),
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
    const renewed = await issue(ca, 'tenant-a-kes', 'server');
    world.put('Secret', tlsSecret('tenant-a-kes-tls', renewed, ca.cert));
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
  before(async () => {
    kes = await startStandIn(kesServer, ca.cert, {
      operator: { allow: ['/v1/key/create/minio-key-1', '/v1/key/create/minio-key-2', '/v1/key/list/*', '/v1/status', '/v1/key/delete/*'], identities: [identityOf(operatorClient.cert)] },
      minio: { allow: ['/v1/key/generate/minio-key-1', '/v1/key/decrypt/minio-key-1'], identities: [identityOf(minioClient.cert)] },
    });
  });
  after(() => kes.close());

  it('creates the missing keys once; a second reconcile only lists', async () => {
    const world = provisioned();
    const step = keysStep({ endpoint });
    assert.deepEqual(await step.run(world.context(vaultSpec())), { status: 'True', reason: 'KeysPresent', message: 'master keys present: minio-key-1, minio-key-2' });
    assert.deepEqual([...kes.keys.keys()].sort(), ['minio-key-1', 'minio-key-2']);
    assert.deepEqual(world.events.map((e) => e.reason), ['KeyCreated', 'KeyCreated']);

    const before = kes.requests.length;
    assert.equal((await step.run(world.context(vaultSpec()))).status, 'True');
    assert.deepEqual(kes.requests.slice(before).map((r) => `${r.method} ${r.path}`), ['GET /v1/key/list/*']);
  });

  it('deletes keys that left the spec only with keyDeletionPolicy Delete', async () => {
    kes.keys.set('retired', Buffer.alloc(32));
    const world = provisioned();
    await keysStep({ endpoint }).run(world.context(vaultSpec()));
    assert.ok(kes.keys.has('retired'), 'Retain keeps it');
    await keysStep({ endpoint }).run(world.context(vaultSpec({ extra: { keyDeletionPolicy: 'Delete' } })));
    assert.equal(kes.keys.has('retired'), false);
    assert.equal(world.events.at(-1)?.reason, 'KeyDeleted');
    assert.equal(world.events.at(-1)?.type, 'Warning');
  });

  it('turns KES failures into condition reasons with a growing retry delay', async () => {
    kes.keys.clear();
    kes.keystoreFailing = true;
    try {
      const backoff = new KeyedBackoff({ baseMs: 1000, maxMs: 60_000 });
      const step = keysStep({ endpoint, backoff });
      const first = await step.run(provisioned().context(vaultSpec()));
      assert.equal(first.status, 'False');
      assert.equal(first.reason, 'KeystoreError');
      assert.match(first.message, /HTTP 502: failed to list keys.*check the AppRole policy/);
      const second = await step.run(provisioned().context(vaultSpec()));
      assert.ok((second.requeueAfterMs ?? 0) > (first.requeueAfterMs ?? 0), `${second.requeueAfterMs} > ${first.requeueAfterMs}`);
    } finally {
      kes.keystoreFailing = false;
    }
  });

  it('waits for the operator identity Secret', async () => {
    const world = provisioned();
    world.cached.delete('Secret/tenant-a-operator-kes-identity');
    const result = await keysStep({ endpoint }).run(world.context(vaultSpec()));
    assert.equal(result.reason, 'WaitingForCertificates');
  });

  it('verifies the round trip with MinIO identity, and reports a policy denial', async () => {
    await keysStep({ endpoint }).run(provisioned().context(vaultSpec()));
    assert.deepEqual(await verifyStep({ endpoint }).run(provisioned().context(vaultSpec())), {
      status: 'True',
      reason: 'RoundTripSucceeded',
      message: "generated and decrypted a data key with MinIO's identity and key minio-key-1",
    });
    const generate = kes.requests.findLast((r) => r.path === '/v1/key/generate/minio-key-1');
    assert.equal(generate?.identity, identityOf(minioClient.cert));

    const impostor = provisioned();
    impostor.put('Secret', tlsSecret('tenant-a-minio-kes-identity', operatorClient, ca.cert));
    const denied = await verifyStep({ endpoint }).run(impostor.context(vaultSpec()));
    assert.equal(denied.reason, 'KESPolicyDenied');
    assert.doesNotMatch(JSON.stringify(denied), /PRIVATE KEY/);
  });

  it('skips verification when disabled or in StaticKey mode', async () => {
    assert.equal((await verifyStep({ endpoint }).run(new World().context(vaultSpec({ extra: { verifyEncryption: false } })))).reason, 'Disabled');
    assert.equal((await verifyStep({ endpoint }).run(new World().context(staticSpec()))).reason, 'NotApplicable');
  });
});
