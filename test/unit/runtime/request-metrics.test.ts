// Vault and KES request metrics: recorded for every call where the call is made, labelled with a
// bounded operation (method and kind of path, or the KES route) and never with a name from a spec.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KesClient } from '../../../src/kes/client.ts';
import { kesRouteLabel } from '../../../src/kes/api.ts';
import { registry } from '../../../src/runtime/metrics.ts';
import { VaultClient } from '../../../src/vault/client.ts';
import { vaultOperationLabel } from '../../../src/vault/request-labels.ts';
import { startStandIn, type StandIn } from '../kes/kes-standin.ts';
import { identityOf, issue, makeCa } from '../kes/tls-fixture.ts';

async function value(metric: string, labels: Record<string, string>): Promise<number> {
  const found = (await registry.getSingleMetric(metric)?.get())?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return found?.value ?? 0;
}

describe('request metric labels', () => {
  it('name the kind of Vault path, never a mount, role, prefix or key', () => {
    const cases: [string, string, string][] = [
      ['GET', '/v1/sys/health?standbyok=true', 'GET sys/health'],
      ['PUT', '/v1/sys/policies/acl/kmsstack-team-a-payments', 'PUT sys/policies/acl'],
      ['POST', '/v1/auth/kubernetes-prod/login', 'POST auth/login'],
      ['POST', '/v1/auth/approle/role/kmsstack-team-a-payments/secret-id', 'POST auth/role/secret-id'],
      ['POST', '/v1/auth/approle/role/r/secret-id-accessor/destroy', 'POST auth/role/secret-id-accessor/destroy'],
      ['GET', '/v1/auth/approle/role/r/role-id', 'GET auth/role/role-id'],
      ['GET', '/v1/auth/token/lookup-self', 'GET auth/token/lookup-self'],
      ['LIST', '/v1/kv/kmsstack/team-a/payments', 'LIST kv'],
      ['DELETE', '/v1/kv2/metadata/kmsstack/team-a/payments/minio-key-1', 'DELETE kv'],
      ['BREW', '/v1/sys/evil', 'OTHER sys/other'],
    ];
    for (const [method, path, label] of cases) assert.equal(vaultOperationLabel(method, path), label, path);
    assert.equal(kesRouteLabel('/v1/key/create/tenant-secret-name'), 'key/create');
    assert.equal(kesRouteLabel('/v1/status'), 'status');
    assert.equal(kesRouteLabel('/version'), 'version');
    assert.equal(kesRouteLabel('/v1/somewhere/else'), 'other');
  });
});

describe('request metrics are recorded', () => {
  let vault: Server;
  let vaultUrl: string;
  let kes: StandIn;
  let kesClient: KesClient;
  before(async () => {
    vault = createServer((req, res) => {
      const denied = req.url?.includes('policies');
      res.writeHead(denied ? 403 : 200, { 'content-type': 'application/json' }).end(denied ? '{"errors":["permission denied"]}' : '{"data":{}}');
    });
    await new Promise<void>((resolve) => vault.listen(0, '127.0.0.1', resolve));
    vaultUrl = `http://127.0.0.1:${(vault.address() as AddressInfo).port}`;
    const ca = await makeCa();
    const operator = await issue(ca, 'operator', 'client');
    kes = await startStandIn(await issue(ca, 'kes', 'server'), ca.cert, { operator: { allow: ['/v1/key/create/*'], identities: [identityOf(operator.cert)] } });
    kesClient = new KesClient({ endpoint: kes.url, clientCert: operator.cert, clientKey: operator.key, ca: ca.cert });
  });
  after(async () => {
    vault.close();
    kesClient.close();
    await kes.close();
  });

  it('counts and times each Vault attempt by operation and status, and failures by reason', async () => {
    const client = new VaultClient({ address: vaultUrl, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    const ok = { operation: 'GET sys/health', code: '200' };
    const denied = { operation: 'PUT sys/policies/acl', code: '403' };
    const [okBefore, deniedBefore] = [await value('kmsstack_vault_requests_total', ok), await value('kmsstack_vault_requests_total', denied)];
    const reasonBefore = await value('kmsstack_vault_request_errors_total', { operation: 'PUT sys/policies/acl', reason: 'PermissionDenied' });
    await client.call({ method: 'GET', path: 'sys/health', operation: 'read health' });
    await assert.rejects(client.call({ method: 'PUT', path: 'sys/policies/acl/kmsstack-x', json: {}, token: 't', operation: 'write policy' }));
    assert.equal(await value('kmsstack_vault_requests_total', ok), okBefore + 1);
    assert.equal(await value('kmsstack_vault_requests_total', denied), deniedBefore + 1);
    assert.equal(await value('kmsstack_vault_request_errors_total', { operation: 'PUT sys/policies/acl', reason: 'PermissionDenied' }), reasonBefore + 1);
    const histogram = (await registry.getSingleMetric('kmsstack_vault_request_duration_seconds')?.get())?.values.find((v) => v.labels['operation'] === 'GET sys/health' && (v as { metricName?: string }).metricName?.endsWith('_count'));
    assert.ok((histogram?.value ?? 0) >= 1);
    assert.doesNotMatch(await registry.metrics(), /kmsstack-x/, 'no name from a path in any label');
  });

  it('counts KES calls by route and status, and failures by reason', async () => {
    const before = await value('kmsstack_kes_requests_total', { operation: 'key/create', code: '200' });
    const exists = await value('kmsstack_kes_request_errors_total', { operation: 'key/create', reason: 'KeyExists' });
    await kesClient.createKey('metric-key');
    assert.equal(await kesClient.createKey('metric-key'), 'exists');
    assert.equal(await value('kmsstack_kes_requests_total', { operation: 'key/create', code: '200' }), before + 1);
    assert.equal(await value('kmsstack_kes_request_errors_total', { operation: 'key/create', reason: 'KeyExists' }), exists + 1);
    assert.doesNotMatch(await registry.metrics(), /metric-key/);
  });
});
