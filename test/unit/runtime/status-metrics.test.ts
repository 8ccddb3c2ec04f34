// Per-KMSDeployment gauges: read from the cached objects' status, spec and owned Secrets at scrape
// time, one series set per object, gone with the object.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exportStatusMetrics, recordEncryptionVerified } from '../../../src/controllers/kmsdeployment/status-metrics.ts';
import { createCA, issueClientCertificate } from '../../../src/pki/index.ts';
import type { KubeObject } from '../../../src/runtime/kube/resources.ts';
import { registry, scrapeMetrics } from '../../../src/runtime/metrics.ts';

const HOUR = 3600;

const deployment = (name: string, status: Record<string, unknown>, spec: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment', metadata: { name, namespace: 'storage', uid: `uid-${name}` }, spec, status }) as KubeObject;

function tlsSecret(name: string, owner: KubeObject, certPem: string, resourceVersion = '1'): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Secret',
    metadata: { name, namespace: 'storage', uid: `uid-${name}`, resourceVersion, ownerReferences: [{ apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment', name: owner.metadata.name ?? '', uid: owner.metadata.uid ?? '', controller: true }] },
    data: { 'tls.crt': Buffer.from(certPem).toString('base64') },
  } as KubeObject;
}

async function series(metric: string): Promise<{ labels: Record<string, string | number>; value: number }[]> {
  return ((await registry.getSingleMetric(metric)?.get())?.values ?? []).map((v) => ({ labels: v.labels as Record<string, string | number>, value: v.value }));
}

async function byCertificate(metric: string): Promise<[string | number | undefined, string | number | undefined, number][]> {
  return (await series(metric)).map((s) => [s.labels['name'], s.labels['certificate'], s.value] as [string, string, number]).sort();
}

const PER_DEPLOYMENT = [
  'kmsstack_kmsdeployment_condition', 'kmsstack_kmsdeployment_master_keys', 'kmsstack_kmsdeployment_certificate_expiration_timestamp_seconds',
  'kmsstack_kmsdeployment_certificate_not_before_timestamp_seconds', 'kmsstack_kmsdeployment_certificate_renewal_timestamp_seconds',
  'kmsstack_kmsdeployment_secret_id_expiration_timestamp_seconds', 'kmsstack_kmsdeployment_secret_id_renewal_timestamp_seconds',
  'kmsstack_kmsdeployment_secret_id_ttl_seconds', 'kmsstack_kmsdeployment_encryption_verified_timestamp_seconds',
];

describe('per-KMSDeployment status gauges', () => {
  it('export conditions, secret-id times and key counts from status, and drop an object once it is gone', async () => {
    let cached = [
      deployment('a', {
        conditions: [{ type: 'Ready', status: 'False' }, { type: 'KeysReady', status: 'True' }],
        certificates: { notAfter: '2027-01-01T00:00:00Z', caNotAfter: '2030-01-01T00:00:00Z' },
        vault: { secretIDExpiresAt: '2026-12-01T00:00:00Z' },
        kes: { keys: [{ name: 'k1', createdAt: '2026-01-01T00:00:00Z' }, { name: 'k2', createdAt: '2026-01-01T00:00:00Z' }] },
      }, { mode: 'Vault', vault: { appRole: { secretIDTTL: '12h', secretIDRenewBefore: '4h' } } }),
      deployment('fresh', {}),
    ];
    const stop = exportStatusMetrics(() => cached);
    try {
      const ready = (await series('kmsstack_kmsdeployment_condition')).filter((s) => s.labels['name'] === 'a' && s.labels['type'] === 'Ready');
      assert.deepEqual(ready.map((s) => [s.labels['status'], s.value]).sort(), [['False', 1], ['True', 0], ['Unknown', 0]]);
      // Without Secrets to read, the CA's expiry still comes from the status; the leaves need their Secrets.
      assert.deepEqual(await byCertificate('kmsstack_kmsdeployment_certificate_expiration_timestamp_seconds'), [['a', 'ca', Date.parse('2030-01-01T00:00:00Z') / 1000]]);
      const expiry = Date.parse('2026-12-01T00:00:00Z') / 1000;
      assert.deepEqual((await series('kmsstack_kmsdeployment_secret_id_expiration_timestamp_seconds')).map((s) => s.value), [expiry]);
      assert.deepEqual((await series('kmsstack_kmsdeployment_secret_id_renewal_timestamp_seconds')).map((s) => s.value), [expiry - 4 * HOUR]);
      assert.deepEqual((await series('kmsstack_kmsdeployment_secret_id_ttl_seconds')).map((s) => s.value), [12 * HOUR]);
      assert.deepEqual((await series('kmsstack_kmsdeployment_master_keys')).map((s) => [s.labels['name'], s.value]), [['a', 2]]);

      cached = [];
      for (const metric of PER_DEPLOYMENT) assert.deepEqual(await series(metric), [], `${metric} is empty once the object is gone`);
    } finally {
      stop();
    }
    cached = [deployment('a', { kes: { keys: [] } })];
    assert.deepEqual(await series('kmsstack_kmsdeployment_master_keys'), [], 'a stopped manager exports nothing');
  });

  it('read each certificate from the Secrets the object controls, with renewal times from spec.tls', async () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const ca = await createCA({ subject: { commonName: 'a-ca' }, validityMs: 400 * HOUR * 1000, now });
    const leaf = await issueClientCertificate({ ca: ca.authority, subject: { commonName: 'a-minio' }, validityMs: 100 * HOUR * 1000, now });
    const object = deployment('a', { certificates: { caNotAfter: '2030-01-01T00:00:00Z' } }, { tls: { validity: '100h', renewBefore: '30h' } });
    const stranger = deployment('b', {});
    const secrets = new Map<string, KubeObject>([
      ['a-ca', tlsSecret('a-ca', object, ca.certPem)],
      ['a-minio-kes-identity', tlsSecret('a-minio-kes-identity', object, leaf.certPem)],
      ['a-kes-tls', tlsSecret('a-kes-tls', stranger, leaf.certPem)], // not controlled by a: ignored
      ['a-operator-kes-identity', { ...tlsSecret('a-operator-kes-identity', object, ''), data: { 'tls.crt': 'bm90IGEgY2VydA==' } } as KubeObject],
    ]);
    const stop = exportStatusMetrics(() => [object], (_ns, name) => secrets.get(name));
    try {
      const caEnd = ca.certificate.info.notAfter.getTime() / 1000;
      const leafEnd = leaf.certificate.info.notAfter.getTime() / 1000;
      assert.deepEqual(await byCertificate('kmsstack_kmsdeployment_certificate_expiration_timestamp_seconds'), [['a', 'ca', caEnd], ['a', 'minio-client', leafEnd]]);
      assert.deepEqual(await byCertificate('kmsstack_kmsdeployment_certificate_not_before_timestamp_seconds'), [
        ['a', 'ca', ca.certificate.info.notBefore.getTime() / 1000], ['a', 'minio-client', leaf.certificate.info.notBefore.getTime() / 1000],
      ]);
      // The operator's CA is rotated one leaf validity before its end, leaves renewBefore before theirs.
      assert.deepEqual(await byCertificate('kmsstack_kmsdeployment_certificate_renewal_timestamp_seconds'), [['a', 'ca', caEnd - 100 * HOUR], ['a', 'minio-client', leafEnd - 30 * HOUR]]);

      secrets.delete('a-ca');
      assert.deepEqual((await byCertificate('kmsstack_kmsdeployment_certificate_expiration_timestamp_seconds')).map(([, c]) => c), ['minio-client'], "no CA series while the operator's own CA Secret is missing");
      secrets.set('a-ca', tlsSecret('a-ca', object, ca.certPem));

      const renewed = await issueClientCertificate({ ca: ca.authority, subject: { commonName: 'a-minio' }, validityMs: 100 * HOUR * 1000, now: new Date('2026-06-03T00:00:00Z') });
      secrets.set('a-minio-kes-identity', tlsSecret('a-minio-kes-identity', object, renewed.certPem, '2'));
      const expiries = await byCertificate('kmsstack_kmsdeployment_certificate_expiration_timestamp_seconds');
      assert.deepEqual(expiries.find(([, certificate]) => certificate === 'minio-client')?.[2], renewed.certificate.info.notAfter.getTime() / 1000, 'a renewed certificate is read again');
    } finally {
      stop();
    }
  });

  it("take a CA the user brings (spec.tls.caSecretRef) from the status, with no renewal time: the operator never renews it", async () => {
    const object = deployment('u', { certificates: { caNotAfter: '2027-03-01T00:00:00Z' } }, { tls: { caSecretRef: { name: 'corp-ca' } } });
    const stop = exportStatusMetrics(() => [object], () => undefined);
    try {
      assert.deepEqual(await byCertificate('kmsstack_kmsdeployment_certificate_expiration_timestamp_seconds'), [['u', 'ca', Date.parse('2027-03-01T00:00:00Z') / 1000]]);
      assert.deepEqual(await series('kmsstack_kmsdeployment_certificate_renewal_timestamp_seconds'), []);
      assert.deepEqual(await series('kmsstack_kmsdeployment_certificate_not_before_timestamp_seconds'), []);
    } finally {
      stop();
    }
  });

  it('export the last successful round trip of an object that is cached, and forget it with the object', async () => {
    const object = deployment('a', {});
    let cached = [object];
    const stop = exportStatusMetrics(() => cached);
    try {
      assert.deepEqual(await series('kmsstack_kmsdeployment_encryption_verified_timestamp_seconds'), [], 'nothing before the first round trip');
      recordEncryptionVerified(object, new Date('2026-06-01T00:00:00Z'));
      assert.deepEqual((await series('kmsstack_kmsdeployment_encryption_verified_timestamp_seconds')).map((s) => [s.labels['name'], s.value]), [['a', Date.parse('2026-06-01T00:00:00Z') / 1000]]);
      cached = [];
      await series('kmsstack_kmsdeployment_encryption_verified_timestamp_seconds');
      cached = [{ ...object, metadata: { ...object.metadata, uid: 'uid-recreated' } }];
      assert.deepEqual(await series('kmsstack_kmsdeployment_encryption_verified_timestamp_seconds'), [], 'a recreated object with the same name starts without one');
    } finally {
      stop();
    }
  });

  it('take one snapshot of the KMSDeployments per /metrics scrape, shared by every gauge, and a new one for the next', async () => {
    let reads = 0;
    let cached = [deployment('a', { conditions: [{ type: 'Ready', status: 'True' }] })];
    const stop = exportStatusMetrics(() => {
      reads++;
      return cached;
    });
    try {
      const first = await scrapeMetrics();
      assert.equal(reads, 1, 'one snapshot for all the per-KMSDeployment gauges of a scrape');
      assert.match(first, /kmsstack_kmsdeployment_condition\{namespace="storage",name="a",type="Ready",status="True"\} 1/);
      cached = [deployment('a', { conditions: [{ type: 'Ready', status: 'False' }] })];
      const second = await scrapeMetrics();
      assert.equal(reads, 2);
      assert.match(second, /kmsstack_kmsdeployment_condition\{namespace="storage",name="a",type="Ready",status="False"\} 1/);
      await series('kmsstack_kmsdeployment_condition');
      assert.equal(reads, 3, 'a gauge read on its own, outside a scrape, takes its own');
    } finally {
      stop();
    }
  });
});
