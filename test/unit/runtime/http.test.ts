// /metrics on a listener of its own (--metrics-bind-address): the health listener no longer serves it,
// the metrics listener serves nothing else.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HttpEndpoints } from '../../../src/runtime/http.ts';

describe('HttpEndpoints', () => {
  it('serves /metrics only on the listener that is meant to', async () => {
    const checks = { ready: () => true };
    const health = new HttpEndpoints(checks, { health: true, metrics: false });
    const metrics = new HttpEndpoints(checks, { health: false, metrics: true });
    const shared = new HttpEndpoints(checks);
    try {
      const [h, m, s] = [await health.listen('127.0.0.1', 0), await metrics.listen('127.0.0.1', 0), await shared.listen('127.0.0.1', 0)];
      const status = async (port: number, path: string) => (await fetch(`http://127.0.0.1:${port}${path}`)).status;
      assert.deepEqual([await status(h, '/healthz'), await status(h, '/readyz'), await status(h, '/metrics')], [200, 200, 404]);
      assert.deepEqual([await status(m, '/healthz'), await status(m, '/readyz'), await status(m, '/metrics')], [404, 404, 200]);
      assert.deepEqual([await status(s, '/healthz'), await status(s, '/metrics')], [200, 200], 'the default serves both');
    } finally {
      await Promise.all([health.close(), metrics.close(), shared.close()]);
    }
  });
});
