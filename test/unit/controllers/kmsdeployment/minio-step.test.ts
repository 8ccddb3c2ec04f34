import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { applyDefaults, defaultMinioImage, formerDefaultImages } from '../../../../src/api/index.ts';
import { minioStep } from '../../../../src/controllers/kmsdeployment/steps/minio.ts';
import type { RandomBytes } from '../../../../src/minio/credentials.ts';
import { controllerReference } from '../../../../src/runtime/children.ts';
import type { KubeObject } from '../../../../src/runtime/kube/resources.ts';
import { staticSpec, vaultSpec } from '../../kes/fixtures.ts';
import { decoded, opaqueSecret, owner, tlsSecret, World, tenantCertificates, type TenantCertificates } from './step-harness.ts';

let certs: TenantCertificates;
before(async () => {
  certs = await tenantCertificates();
});

const ones: RandomBytes = (size) => Buffer.alloc(size, 1);

/** MinIO's S3 server certificate, which the PKI step issues by default (spec.minio.tls.enabled). */
function tlsWorld(): World {
  const world = new World();
  world.put('Secret', tlsSecret('tenant-a-minio-tls', certs.minioServer, certs.ca.cert));
  return world;
}

function vaultWorld(): World {
  const world = tlsWorld();
  world.put('Secret', tlsSecret('tenant-a-minio-kes-identity', certs.minioClient, certs.ca.cert));
  return world;
}

type Sts = KubeObject & { spec: { replicas: number; template: { metadata: { annotations: Record<string, string> } } } };
const sts = (context: ReturnType<World['context']>) => context.children.get('StatefulSet', 'tenant-a-minio') as Sts | undefined;

describe('MinIO step', () => {
  it('generates root credentials once and keeps them on later reconciles', async () => {
    const world = vaultWorld();
    const first = world.context(vaultSpec());
    const result = await minioStep({ random: ones }).run(first);
    assert.equal(result.reason, 'WaitingForPods');
    const root = first.children.get('Secret', 'tenant-a-minio-root');
    assert.match(decoded(root, 'rootUser'), /^[A-Za-z0-9]{20}$/);
    for (const name of ['tenant-a-minio', 'tenant-a-minio-hl']) assert.ok(first.children.get('Service', name), name);
    assert.ok(sts(first));
    assert.deepEqual(first.status['minio'], { endpoint: 'https://tenant-a-minio.storage.svc.cluster.local:9000', image: defaultMinioImage, readyReplicas: 0, caConfigMap: 'tenant-a-minio-ca' });
    const plain = world.context(vaultSpec({ extra: { minio: { keyName: 'minio-key-1', tls: { enabled: false } } } }));
    await minioStep({ random: ones }).run(plain);
    assert.deepEqual(plain.status['minio'], { endpoint: 'http://tenant-a-minio.storage.svc.cluster.local:9000', image: defaultMinioImage, readyReplicas: 0 }, 'no CA to publish without TLS');

    // Stored in the API server but not yet in the cache: it must be reused, not generated again.
    world.put('Secret', root as KubeObject, 'server');
    const second = world.context(vaultSpec());
    await minioStep({ random: (size) => Buffer.alloc(size, 7) }).run(second);
    assert.equal(decoded(second.children.get('Secret', 'tenant-a-minio-root'), 'rootPassword'), decoded(root, 'rootPassword'));
    assert.equal(
      sts(second)?.spec.template.metadata.annotations['kmsstack.io/config-checksum'],
      sts(first)?.spec.template.metadata.annotations['kmsstack.io/config-checksum'],
    );
  });

  it('uses the user root Secret as given, and names missing keys without revealing values', async () => {
    const spec = applyDefaults({ ...vaultSpec(), minio: { keyName: 'minio-key-1', rootCredentials: { secretRef: { name: 'mine' } } } });
    const world = vaultWorld();
    assert.equal((await minioStep().run(world.context(spec))).reason, 'RootCredentialsMissing');
    world.put('Secret', opaqueSecret('mine', { rootUser: 'admin', rootPassword: 'short' }), 'server');
    const invalid = await minioStep().run(world.context(spec));
    assert.equal(invalid.reason, 'RootCredentialsInvalid');
    assert.doesNotMatch(invalid.message, /short|admin/);
    world.put('Secret', opaqueSecret('mine', { rootUser: 'admin', rootPassword: 'long-enough-password' }), 'server');
    const context = world.context(spec);
    assert.equal((await minioStep().run(context)).reason, 'WaitingForPods');
    assert.equal(context.children.get('Secret', 'tenant-a-minio-root'), undefined, 'no generated Secret next to the user one');
  });

  it('while the pods wait, says when spec.minio.image is the former CRD default that can no longer be pulled', async () => {
    const world = tlsWorld();
    const former = await minioStep({ random: ones }).run(world.context(staticSpec({ minio: { keyName: 'dev-key', image: formerDefaultImages['spec.minio.image'] } })));
    assert.equal(former.reason, 'WaitingForPods');
    assert.match(former.message, /spec\.minio\.image is minio\/minio:RELEASE\.2025-10-15T17-29-55Z, the default of earlier releases, which can no longer be pulled: remove the field/);
    const current = await minioStep({ random: ones }).run(world.context(staticSpec()));
    assert.doesNotMatch(current.message, /earlier releases/);
  });

  it('generates the static key once in StaticKey mode and never replaces it', async () => {
    const world = tlsWorld();
    const first = world.context(staticSpec());
    await minioStep({ random: ones }).run(first);
    const key = first.children.get('Secret', 'tenant-a-minio-static-key');
    assert.equal(decoded(key, 'kms-secret-key'), `dev-key:${Buffer.alloc(32, 1).toString('base64')}`);
    world.put('Secret', key as KubeObject, 'server');
    const second = world.context(staticSpec());
    await minioStep({ random: (size) => Buffer.alloc(size, 9) }).run(second);
    assert.equal(decoded(second.children.get('Secret', 'tenant-a-minio-static-key'), 'kms-secret-key'), decoded(key, 'kms-secret-key'));

    // Hand edits of the operator's own Secret (a foreign one with this name is a ChildConflict instead).
    const ours = (secret: KubeObject): KubeObject => ({ ...secret, metadata: { ...secret.metadata, ownerReferences: [controllerReference(owner)] } });
    world.put('Secret', ours(opaqueSecret('tenant-a-minio-static-key', { other: 'x' })), 'server');
    const broken = await minioStep().run(world.context(staticSpec()));
    assert.equal(broken.reason, 'StaticKeyInvalid');
    world.put('Secret', ours(opaqueSecret('tenant-a-minio-static-key', { 'kms-secret-key': `other-key:${Buffer.alloc(32).toString('base64')}` })), 'server');
    assert.match((await minioStep().run(world.context(staticSpec()))).message, /not named dev-key/);
  });

  it('waits for the KES identity in Vault mode and for the server certificate with TLS', async () => {
    const noIdentity = await minioStep().run(tlsWorld().context(vaultSpec()));
    assert.deepEqual([noIdentity.reason, noIdentity.message], ['WaitingForCertificates', 'Secret tenant-a-minio-kes-identity does not exist yet']);
    const world = new World();
    world.put('Secret', tlsSecret('tenant-a-minio-kes-identity', certs.minioClient, certs.ca.cert));
    const result = await minioStep().run(world.context(vaultSpec()));
    assert.deepEqual([result.reason, result.message], ['WaitingForCertificates', 'Secret tenant-a-minio-tls does not exist yet']);
    const plain = applyDefaults({ ...vaultSpec(), minio: { keyName: 'minio-key-1', tls: { enabled: false } } });
    assert.equal((await minioStep().run(world.context(plain))).reason, 'WaitingForPods', 'without TLS nothing else is needed');
  });

  it('refuses a layout change and leaves the running StatefulSet alone', async () => {
    const world = vaultWorld();
    const first = world.context(vaultSpec());
    await minioStep({ random: ones }).run(first);
    world.put('StatefulSet', sts(first) as KubeObject);
    world.put('Secret', first.children.get('Secret', 'tenant-a-minio-root') as KubeObject, 'server');
    const grown = applyDefaults({ ...vaultSpec(), minio: { keyName: 'minio-key-1', replicas: 8 } });
    const context = world.context(grown);
    const result = await minioStep().run(context);
    assert.equal(result.status, 'False');
    assert.equal(result.reason, 'UnsafeChangeRefused');
    assert.match(result.message, /^spec\.minio\.replicas: MinIO runs with 4 server/);
    assert.equal(sts(context), undefined);
    assert.equal(world.events.at(-1)?.type, 'Warning');
  });

  it('is Available when all servers run the declared configuration and are ready', async () => {
    const world = vaultWorld();
    const first = world.context(vaultSpec());
    await minioStep({ random: ones }).run(first);
    world.put('Secret', first.children.get('Secret', 'tenant-a-minio-root') as KubeObject, 'server');
    const declared = sts(first) as Sts;
    world.put('StatefulSet', { ...declared, status: { observedGeneration: 0, replicas: 4, readyReplicas: 3, updatedReplicas: 4, currentRevision: 'r1', updateRevision: 'r1' } });
    assert.deepEqual(await minioStep().run(world.context(vaultSpec())), {
      status: 'False', reason: 'WaitingForPods', message: 'MinIO: 3/4 pods ready',
    });
    world.put('StatefulSet', { ...declared, status: { observedGeneration: 0, replicas: 4, readyReplicas: 4, updatedReplicas: 4, currentRevision: 'r1', updateRevision: 'r1' } });
    assert.deepEqual(await minioStep().run(world.context(vaultSpec())), { status: 'True', reason: 'Available', message: 'MinIO: 4/4 pods ready' });
  });

  it('rolls a change of MinIO\'s environment with /minio/health/ready, then back to /minio/health/cluster, Available only after both', async () => {
    const world = vaultWorld();
    const withKey = (keyName: string) => applyDefaults({ ...vaultSpec(), minio: { keyName } });
    const first = world.context(withKey('minio-key-1'));
    await minioStep({ random: ones }).run(first);
    world.put('Secret', first.children.get('Secret', 'tenant-a-minio-root') as KubeObject, 'server');
    const probeOf = (object: KubeObject | undefined) =>
      (object as { spec: { template: { spec: { containers: { readinessProbe: { httpGet: { path: string } } }[] } } } } | undefined)
        ?.spec.template.spec.containers[0]?.readinessProbe.httpGet.path;
    assert.equal(probeOf(sts(first)), '/minio/health/cluster');
    const done = { observedGeneration: 0, replicas: 4, readyReplicas: 4, updatedReplicas: 4, availableReplicas: 4, currentRevision: 'r1', updateRevision: 'r1' };
    world.put('StatefulSet', { ...(sts(first) as Sts), status: done });
    assert.equal((await minioStep().run(world.context(withKey('minio-key-1')))).reason, 'Available');

    const second = world.context(withKey('minio-key-2'));
    await minioStep().run(second);
    assert.equal(probeOf(sts(second)), '/minio/health/ready', 'a new default key: servers must pass one by one before they agree');
    world.put('StatefulSet', { ...(sts(second) as Sts), status: { ...done, updatedReplicas: 1, updateRevision: 'r2' } });
    const rolling = world.context(withKey('minio-key-2'));
    const during = await minioStep().run(rolling);
    assert.equal(probeOf(sts(rolling)), '/minio/health/ready', 'kept while that rollout goes on');
    assert.equal(during.reason, 'WaitingForPods');
    assert.match(during.message, /then the servers restart once more, to get the write-quorum readiness check back/);

    world.put('StatefulSet', { ...(sts(second) as Sts), status: { ...done, currentRevision: 'r2', updateRevision: 'r2' } });
    const over = world.context(withKey('minio-key-2'));
    const after = await minioStep().run(over);
    assert.equal(probeOf(sts(over)), '/minio/health/cluster', 'that rollout is over: back to the write quorum');
    assert.equal(after.reason, 'WaitingForPods', 'not Available while the StatefulSet in the cache still has /ready');
    world.put('StatefulSet', { ...(sts(over) as Sts), status: { ...done, currentRevision: 'r3', updateRevision: 'r3' } });
    assert.equal((await minioStep().run(world.context(withKey('minio-key-2')))).reason, 'Available');
  });

  it('adds a server pool: its own StatefulSet, all servers on the new pool list, restarted together once the template carries it', async () => {
    const world = tlsWorld();
    const plain = staticSpec({ minio: { keyName: 'dev-key', replicas: 4 } });
    const first = world.context(plain);
    await minioStep({ random: ones }).run(first);
    for (const name of ['tenant-a-minio-root', 'tenant-a-minio-static-key']) world.put('Secret', first.children.get('Secret', name) as KubeObject, 'server');
    world.put('StatefulSet', first.children.get('StatefulSet', 'tenant-a-minio') as KubeObject);
    const pooled = staticSpec({ minio: { keyName: 'dev-key', replicas: 4, pools: [{ name: 'p2', servers: 4 }] } });
    const args = (context: ReturnType<World['context']>, name: string) => (context.children.get('StatefulSet', name) as unknown as { spec: { template: { spec: { containers: { args: string[] }[] } } } }).spec.template.spec.containers[0]!.args;
    const layoutOf = (context: ReturnType<World['context']>, name: string) => context.children.get('StatefulSet', name)?.metadata.annotations?.['kmsstack.io/pool-layout'];

    // 1. Both StatefulSets carry both pools; the first pool's pods still run the old list: no restart yet.
    const added = world.context(pooled);
    await minioStep().run(added);
    assert.equal(args(added, 'tenant-a-minio').length, args(first, 'tenant-a-minio').length + 1);
    assert.deepEqual(args(added, 'tenant-a-minio-p2'), args(added, 'tenant-a-minio'));
    assert.equal(layoutOf(added, 'tenant-a-minio'), undefined);
    assert.match(layoutOf(added, 'tenant-a-minio-p2') ?? '', /^[0-9a-f]{64}$/, 'a new pool starts on the current list');
    assert.deepEqual(world.deleted, []);

    // 2. The first pool's template has the new list: its servers restart together, once.
    for (const name of ['tenant-a-minio', 'tenant-a-minio-p2']) world.put('StatefulSet', added.children.get('StatefulSet', name) as KubeObject);
    const restart = world.context(pooled);
    await minioStep().run(restart);
    assert.deepEqual(world.deleted, ['Pod/tenant-a-minio-0', 'Pod/tenant-a-minio-1', 'Pod/tenant-a-minio-2', 'Pod/tenant-a-minio-3']);
    assert.equal(layoutOf(restart, 'tenant-a-minio'), layoutOf(added, 'tenant-a-minio-p2'));
    assert.equal(world.events.at(-1)?.reason, 'PoolsRestarted');
    for (const name of ['tenant-a-minio', 'tenant-a-minio-p2']) world.put('StatefulSet', restart.children.get('StatefulSet', name) as KubeObject);
    await minioStep().run(world.context(pooled));
    assert.equal(world.deleted.length, 4, 'no second restart');

    // 3. Reshaping the added pool is refused, naming its field.
    const reshaped = await minioStep().run(world.context(staticSpec({ minio: { keyName: 'dev-key', replicas: 4, pools: [{ name: 'p2', servers: 8 }] } })));
    assert.equal(reshaped.reason, 'UnsafeChangeRefused');
    assert.match(reshaped.message, /^spec\.minio\.pools\[0\]\.servers: MinIO runs with 4 server\(s\) in this pool/);
  });
});
