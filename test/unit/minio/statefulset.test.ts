import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1EnvVar } from '@kubernetes/client-node';
import { applyDefaults, type DefaultedKMSDeploymentSpec } from '../../../src/api/index.ts';
import { buildMinioEnv } from '../../../src/minio/env.ts';
import { buildMinioHeadlessService, buildMinioService, minioEndpoint } from '../../../src/minio/services.ts';
import { buildMinioStatefulSet, minioEndpoints } from '../../../src/minio/statefulset.ts';
import { minioPools } from '../../../src/minio/pools.ts';
import { assertGolden } from '../../support/golden.ts';
import { ref, staticSpec, vaultSpec } from '../kes/fixtures.ts';

const configChecksum = 'c'.repeat(64);
const build = (spec: DefaultedKMSDeploymentSpec) => buildMinioStatefulSet({ deployment: ref, spec, configChecksum });
const envOf = (spec: DefaultedKMSDeploymentSpec): Record<string, V1EnvVar> =>
  Object.fromEntries(buildMinioEnv(ref, spec).map((e) => [e.name, e]));

function withMinio(minio: Record<string, unknown>): DefaultedKMSDeploymentSpec {
  const base = vaultSpec();
  return applyDefaults({ ...base, minio: { keyName: 'minio-key-1', ...minio } });
}

describe('MinIO StatefulSet', () => {
  it('runs a single server on its local drive (golden)', () => {
    assertGolden('minio/statefulset-1-replica.yaml', build(withMinio({ replicas: 1, autoEncryption: false })));
  });

  it('runs 4 distributed servers with 2 drives each, TLS, auto-encryption and public metrics (golden)', () => {
    const spec = withMinio({
      replicas: 4,
      drivesPerServer: 2,
      autoEncryption: true,
      tls: { enabled: true },
      storage: { size: '50Gi', storageClassName: 'fast-ssd' },
      rootCredentials: { secretRef: { name: 'my-minio-root' } },
      resources: { requests: { cpu: '500m', memory: '1Gi' } },
      nodeSelector: { 'kubernetes.io/arch': 'amd64' },
      tolerations: [{ key: 'storage', operator: 'Exists', effect: 'NoSchedule' }],
      imagePullSecrets: [{ name: 'registry' }],
      podAnnotations: { 'example.com/backup': 'true' },
      metrics: { enabled: true, auth: 'Public' },
    });
    assertGolden('minio/statefulset-4-replicas.yaml', build(spec));
  });

  it('runs in StaticKey mode without any KES wiring (golden)', () => {
    const spec = staticSpec();
    assertGolden('minio/statefulset-static-key.yaml', build(spec));
    const pod = build(spec).spec?.template.spec;
    assert.equal(pod?.volumes?.some((v) => v.name === 'kes-identity'), false);
    assert.equal(Object.keys(envOf(spec)).some((name) => name.startsWith('MINIO_KMS_KES_')), false);
  });

  it('forms the distributed endpoints from the headless Service names', () => {
    assert.deepEqual(minioEndpoints(ref, withMinio({ replicas: 1 })), ['/data1']);
    assert.deepEqual(minioEndpoints(ref, withMinio({ replicas: 1, drivesPerServer: 4 })), ['/data{1...4}']);
    assert.deepEqual(
      minioEndpoints(ref, withMinio({ replicas: 4 })),
      ['https://tenant-a-minio-{0...3}.tenant-a-minio-hl.storage.svc.cluster.local/data1'],
    );
    assert.deepEqual(
      minioEndpoints(ref, withMinio({ replicas: 4, tls: { enabled: false } })),
      ['http://tenant-a-minio-{0...3}.tenant-a-minio-hl.storage.svc.cluster.local/data1'],
    );
    const custom = withMinio({ replicas: 8, drivesPerServer: 2, tls: { enabled: true } });
    custom.tls.clusterDomain = 'corp.example';
    assert.deepEqual(minioEndpoints(ref, custom), ['https://tenant-a-minio-{0...7}.tenant-a-minio-hl.storage.svc.corp.example/data{1...2}']);
  });

  it("mounts the user's certificate Secret when the spec names one, with its ca.crt only when it has one", () => {
    const spec = withMinio({ replicas: 1, tls: { enabled: true, certificateSecretRef: { name: 'minio-cert' } } });
    const certs = (hasCA?: boolean) => buildMinioStatefulSet({ deployment: ref, spec, configChecksum, ...(hasCA === undefined ? {} : { certificateHasCA: hasCA }) }).spec?.template.spec?.volumes?.find((v) => v.name === 'certs')?.secret;
    assert.equal(certs()?.secretName, 'minio-cert');
    assert.deepEqual(certs()?.items?.map((i) => i.path), ['public.crt', 'private.key', 'CAs/ca.crt']);
    assert.deepEqual(certs(false)?.items?.map((i) => i.path), ['public.crt', 'private.key'], 'no ca.crt: MinIO trusts its system roots');
  });

  it('runs each added server pool as its own StatefulSet, every server started with all pools (golden)', () => {
    const spec = withMinio({ replicas: 4, pools: [{ name: 'p2', servers: 2, drivesPerServer: 2, storage: { size: '20Gi' } }, { name: 'p3', servers: 1, drivesPerServer: 4 }] });
    const pools = minioPools(ref, spec);
    assert.deepEqual(pools.map((p) => [p.statefulSet, p.servers, p.drivesPerServer, p.storage.size]), [['tenant-a-minio', 4, 1, '10Gi'], ['tenant-a-minio-p2', 2, 2, '20Gi'], ['tenant-a-minio-p3', 1, 4, '10Gi']]);
    const endpoints = [
      'https://tenant-a-minio-{0...3}.tenant-a-minio-hl.storage.svc.cluster.local/data1',
      'https://tenant-a-minio-p2-{0...1}.tenant-a-minio-hl.storage.svc.cluster.local/data{1...2}',
      'https://tenant-a-minio-p3-0.tenant-a-minio-hl.storage.svc.cluster.local/data{1...4}',
    ];
    assert.deepEqual(minioEndpoints(ref, spec), endpoints);
    const first = build(spec);
    assert.deepEqual(first.spec?.template.spec?.containers[0]?.args?.slice(-3), endpoints);
    assert.deepEqual(first.spec?.selector.matchLabels, { 'app.kubernetes.io/name': 'minio', 'app.kubernetes.io/instance': 'tenant-a' }, 'the first pool keeps its (immutable) selector');
    const second = buildMinioStatefulSet({ deployment: ref, spec, configChecksum }, pools[1]);
    assert.deepEqual(second.spec?.selector.matchLabels, { 'app.kubernetes.io/name': 'minio', 'app.kubernetes.io/instance': 'tenant-a', 'kmsstack.io/pool': 'p2' });
    assert.deepEqual(second.spec?.template.spec?.containers[0]?.args, first.spec?.template.spec?.containers[0]?.args);
    assertGolden('minio/statefulset-pool.yaml', second);
  });

  it('mounts one claim per drive at the paths the endpoints name', () => {
    const sts = build(withMinio({ replicas: 4, drivesPerServer: 3 }));
    assert.deepEqual(sts.spec?.volumeClaimTemplates?.map((c) => c.metadata?.name), ['data1', 'data2', 'data3']);
    const mounts = sts.spec?.template.spec?.containers[0]?.volumeMounts?.filter((m) => m.name.startsWith('data'));
    assert.deepEqual(mounts?.map((m) => m.mountPath), ['/data1', '/data2', '/data3']);
  });
});

describe('MinIO env', () => {
  it('wires KES to the mounted identity, the CA bundle and the key name', () => {
    const env = envOf(withMinio({ replicas: 4 }));
    assert.equal(env.MINIO_KMS_KES_ENDPOINT?.value, 'https://tenant-a-kes.storage.svc.cluster.local:7373');
    assert.equal(env.MINIO_KMS_KES_CERT_FILE?.value, '/etc/minio/kes/tls.crt');
    assert.equal(env.MINIO_KMS_KES_KEY_FILE?.value, '/etc/minio/kes/tls.key');
    assert.equal(env.MINIO_KMS_KES_CAPATH?.value, '/etc/minio/kes/ca.crt');
    assert.equal(env.MINIO_KMS_KES_KEY_NAME?.value, 'minio-key-1');
    assert.equal(env.MINIO_KMS_SECRET_KEY, undefined);
  });

  it('sets MINIO_KMS_AUTO_ENCRYPTION=on only with autoEncryption', () => {
    assert.equal(envOf(withMinio({ autoEncryption: true })).MINIO_KMS_AUTO_ENCRYPTION?.value, 'on');
    assert.equal(envOf(withMinio({ autoEncryption: false })).MINIO_KMS_AUTO_ENCRYPTION, undefined);
    assert.equal(envOf(staticSpec({ minio: { autoEncryption: true } })).MINIO_KMS_AUTO_ENCRYPTION?.value, 'on');
  });

  it('takes root credentials from the user Secret or the generated one, never as values', () => {
    const generated = envOf(withMinio({}));
    assert.deepEqual(generated.MINIO_ROOT_USER, { name: 'MINIO_ROOT_USER', valueFrom: { secretKeyRef: { name: 'tenant-a-minio-root', key: 'rootUser' } } });
    const user = envOf(withMinio({ rootCredentials: { secretRef: { name: 'mine' } } }));
    assert.deepEqual(user.MINIO_ROOT_PASSWORD, { name: 'MINIO_ROOT_PASSWORD', valueFrom: { secretKeyRef: { name: 'mine', key: 'rootPassword' } } });
    for (const e of buildMinioEnv(ref, staticSpec())) {
      if (e.name === 'MINIO_ROOT_USER' || e.name === 'MINIO_ROOT_PASSWORD' || e.name === 'MINIO_KMS_SECRET_KEY') assert.equal(e.value, undefined, e.name);
    }
    assert.deepEqual(envOf(staticSpec()).MINIO_KMS_SECRET_KEY?.valueFrom, { secretKeyRef: { name: 'tenant-a-minio-static-key', key: 'kms-secret-key' } });
  });
});

describe('MinIO Services', () => {
  it('builds the headless and the client Service (golden)', () => {
    assertGolden('minio/service-headless.yaml', buildMinioHeadlessService(ref));
    assertGolden('minio/service.yaml', buildMinioService(ref, vaultSpec()));
  });

  it('reports the in-cluster S3 endpoint with the right scheme', () => {
    assert.equal(minioEndpoint(ref, withMinio({})), 'https://tenant-a-minio.storage.svc.cluster.local:9000', 'TLS by default');
    assert.equal(minioEndpoint(ref, withMinio({ tls: { enabled: false } })), 'http://tenant-a-minio.storage.svc.cluster.local:9000');
  });

  it('metrics: no scrape annotations nor auth variable by default; JWT leaves MinIO\'s default; a user annotation wins', () => {
    const annotations = (spec: DefaultedKMSDeploymentSpec) => build(spec).spec?.template.metadata?.annotations ?? {};
    const plain = withMinio({ replicas: 1 });
    assert.deepEqual(Object.keys(annotations(plain)).filter((key) => key.startsWith('prometheus.io/')), []);
    assert.equal(envOf(plain)['MINIO_PROMETHEUS_AUTH_TYPE'], undefined);
    const jwt = withMinio({ replicas: 1, metrics: { enabled: true } });
    assert.equal(envOf(jwt)['MINIO_PROMETHEUS_AUTH_TYPE'], undefined);
    assert.equal(annotations(jwt)['prometheus.io/scheme'], 'https', 'HTTPS by default');
    assert.equal(annotations(withMinio({ replicas: 1, metrics: { enabled: true }, tls: { enabled: false } }))['prometheus.io/scheme'], 'http', 'plain HTTP without spec.minio.tls');
    const overridden = withMinio({ replicas: 1, metrics: { enabled: true }, podAnnotations: { 'prometheus.io/path': '/minio/metrics/v3' } });
    assert.equal(annotations(overridden)['prometheus.io/path'], '/minio/metrics/v3');
  });
});
