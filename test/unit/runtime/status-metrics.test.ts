// Per-KMSDeployment gauges: read from the cached objects' status at scrape time, one series set per
// object, gone with the object.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exportStatusMetrics } from '../../../src/controllers/kmsdeployment/status-metrics.ts';
import type { KubeObject } from '../../../src/runtime/kube/resources.ts';
import { registry } from '../../../src/runtime/metrics.ts';

const deployment = (name: string, status: Record<string, unknown>): KubeObject =>
  ({ apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment', metadata: { name, namespace: 'storage' }, status }) as KubeObject;

async function series(metric: string): Promise<{ labels: Record<string, string | number>; value: number }[]> {
  return ((await registry.getSingleMetric(metric)?.get())?.values ?? []).map((v) => ({ labels: v.labels as Record<string, string | number>, value: v.value }));
}

describe('per-KMSDeployment status gauges', () => {
  it('export conditions, expiries and key counts from status, and drop an object once it is gone', async () => {
    let cached = [
      deployment('a', {
        conditions: [{ type: 'Ready', status: 'False' }, { type: 'KeysReady', status: 'True' }],
        certificates: { notAfter: '2027-01-01T00:00:00Z', caNotAfter: '2030-01-01T00:00:00Z' },
        vault: { secretIDExpiresAt: '2026-12-01T00:00:00Z' },
        kes: { keys: [{ name: 'k1', createdAt: '2026-01-01T00:00:00Z' }, { name: 'k2', createdAt: '2026-01-01T00:00:00Z' }] },
      }),
      deployment('fresh', {}),
    ];
    const stop = exportStatusMetrics(() => cached);
    try {
      const ready = (await series('kmsstack_kmsdeployment_condition')).filter((s) => s.labels['name'] === 'a' && s.labels['type'] === 'Ready');
      assert.deepEqual(ready.map((s) => [s.labels['status'], s.value]).sort(), [['False', 1], ['True', 0], ['Unknown', 0]]);
      assert.deepEqual(
        (await series('kmsstack_kmsdeployment_certificate_expiration_timestamp_seconds')).map((s) => [s.labels['name'], s.labels['certificate'], s.value]).sort(),
        [['a', 'ca', Date.parse('2030-01-01T00:00:00Z') / 1000], ['a', 'leaf', Date.parse('2027-01-01T00:00:00Z') / 1000]],
      );
      assert.deepEqual((await series('kmsstack_kmsdeployment_secret_id_expiration_timestamp_seconds')).map((s) => s.value), [Date.parse('2026-12-01T00:00:00Z') / 1000]);
      assert.deepEqual((await series('kmsstack_kmsdeployment_master_keys')).map((s) => [s.labels['name'], s.value]), [['a', 2]]);

      cached = [];
      for (const metric of ['kmsstack_kmsdeployment_condition', 'kmsstack_kmsdeployment_master_keys', 'kmsstack_kmsdeployment_certificate_expiration_timestamp_seconds']) {
        assert.deepEqual(await series(metric), [], `${metric} is empty once the object is gone`);
      }
    } finally {
      stop();
    }
    cached = [deployment('a', { kes: { keys: [] } })];
    assert.deepEqual(await series('kmsstack_kmsdeployment_master_keys'), [], 'a stopped manager exports nothing');
  });
});
