// The per-KMSDeployment gauges and the Vault request metrics as a Prometheus server scrapes them from
// the operator's /metrics, against a real kube-apiserver and a real Vault (the operator's default data
// path in-process): each certificate's and the secret-id's times after a reconcile, the new ones after
// the operator renewed them on its own, every series gone after the deletion.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { parseCertificatePem } from '../../../src/pki/index.ts';
import { resources } from '../../../src/runtime/kube/resources.ts';
import { getKMSDeployment } from '../runtime/harness.ts';
import { pkiNames, secretContents, startPkiStack, vaultDeployment, waitFor, waitForCondition, type Stack } from '../pki/fixture.ts';
import { suiteFixture } from '../../support/suite.ts';
import { scrape, select, total, valueOf, type Sample } from './scrape.ts';

const NS = 'obs';
const NAME = 'watched';
// Renewals come due 30 s after issue: certificates (the least validity is 1h) and the secret-id alike.
const TLS = { validity: '1h', renewBefore: '59m30s' };
const APPROLE = { secretIDTTL: '2m', secretIDRenewBefore: '90s' };
const CERTIFICATES = { ca: 'ca', kesServer: 'kes-server', minioClient: 'minio-client', operatorClient: 'operator-client', minioServer: 'minio-server' } as const;

interface Expected {
  certificates: Map<string, { notBefore: number; expiration: number; renewal: number }>;
  secretId: { expiration: number; renewal: number; ttl: number };
  conditions: { type: string; status: string }[];
}

/** What the gauges must say, from the Secrets and the status as the API server has them now. */
async function expected(stack: Stack): Promise<Expected> {
  const names = pkiNames(NAME);
  const certificates = new Map<string, { notBefore: number; expiration: number; renewal: number }>();
  for (const [kind, label] of Object.entries(CERTIFICATES)) {
    const { info } = parseCertificatePem((await secretContents(stack, names[kind as keyof typeof names]))['tls.crt'] ?? '');
    const expiration = info.notAfter.getTime() / 1000;
    // The operator's CA is rotated one leaf validity (1h) before its end; leaves renewBefore (59m30s) before theirs.
    certificates.set(label, { notBefore: info.notBefore.getTime() / 1000, expiration, renewal: expiration - (kind === 'ca' ? 3600 : 3570) });
  }
  const status = (await getKMSDeployment(stack.kube, NS, NAME))?.status as { vault?: { secretIDExpiresAt?: string }; conditions?: { type: string; status: string }[] } | undefined;
  const secretIdExpiry = Date.parse(status?.vault?.secretIDExpiresAt ?? '') / 1000;
  return { certificates, secretId: { expiration: secretIdExpiry, renewal: secretIdExpiry - 90, ttl: 120 }, conditions: status?.conditions ?? [] };
}

/** Differences between the scraped gauges and `want`; empty when they agree. */
function differences(samples: readonly Sample[], want: Expected): string[] {
  const problems: string[] = [];
  const ours = { namespace: NS, name: NAME };
  const check = (what: string, got: number | undefined, value: number) => {
    if (got !== value) problems.push(`${what}: scraped ${got}, expected ${value}`);
  };
  for (const [certificate, times] of want.certificates) {
    const labels = { ...ours, certificate };
    check(`${certificate} expiration`, valueOf(samples, 'kmsstack_kmsdeployment_certificate_expiration_timestamp_seconds', labels), times.expiration);
    check(`${certificate} not before`, valueOf(samples, 'kmsstack_kmsdeployment_certificate_not_before_timestamp_seconds', labels), times.notBefore);
    check(`${certificate} renewal`, valueOf(samples, 'kmsstack_kmsdeployment_certificate_renewal_timestamp_seconds', labels), times.renewal);
  }
  if (select(samples, 'kmsstack_kmsdeployment_certificate_expiration_timestamp_seconds', ours).length !== 5) problems.push('not exactly five certificates');
  check('secret-id expiration', valueOf(samples, 'kmsstack_kmsdeployment_secret_id_expiration_timestamp_seconds', ours), want.secretId.expiration);
  check('secret-id renewal', valueOf(samples, 'kmsstack_kmsdeployment_secret_id_renewal_timestamp_seconds', ours), want.secretId.renewal);
  check('secret-id ttl', valueOf(samples, 'kmsstack_kmsdeployment_secret_id_ttl_seconds', ours), want.secretId.ttl);
  for (const condition of want.conditions) {
    for (const status of ['True', 'False', 'Unknown']) {
      check(`condition ${condition.type}=${status}`, valueOf(samples, 'kmsstack_kmsdeployment_condition', { ...ours, type: condition.type, status }), condition.status === status ? 1 : 0);
    }
  }
  return problems;
}

describe('per-KMSDeployment metrics on /metrics (real kube-apiserver and Vault)', { timeout: 600_000 }, () => {
  const stack = suiteFixture(() => startPkiStack(NS));
  let port: number;
  let first: Expected;

  before(async () => {
    port = stack.manager.httpPort as number;
  });


  it('after a reconcile: every certificate, the secret-id and each condition, as the Secrets and status say; Vault requests are timed', async () => {
    const before = await scrape(port);
    const { vault } = vaultDeployment(stack, NAME).spec as { vault: Record<string, unknown> };
    await stack.kube.create(vaultDeployment(stack, NAME, { tls: TLS, vault: { ...vault, appRole: APPROLE } }));
    await waitForCondition(stack, NAME, { status: 'True' });
    await waitForCondition(stack, NAME, { status: 'True' }, 60_000, 'VaultConfigured');
    // The operator may renew between the two reads: retry until one scrape agrees with one read.
    first = await waitFor('the gauges to match the Secrets and status', async () => {
      const want = await expected(stack);
      const problems = differences(await scrape(port), want);
      return problems.length === 0 ? want : undefined;
    }, 30_000, 200);

    const after = await scrape(port);
    const timed = (samples: Sample[]) => total(samples, 'kmsstack_vault_request_duration_seconds_count');
    assert.ok(timed(after) > timed(before), `the Vault request histogram moved (${timed(before)} -> ${timed(after)})`);
    for (const operation of ['POST auth/role/secret-id', 'GET sys/policies/acl']) {
      assert.ok(total(after, 'kmsstack_vault_request_duration_seconds_count', { operation }) > total(before, 'kmsstack_vault_request_duration_seconds_count', { operation }), `${operation} was timed`);
      assert.ok(total(after, 'kmsstack_vault_requests_total', { operation }) > 0, `${operation} was counted`);
    }
  });

  it('after a renewal: the renewed certificates and secret-id, with their new times', async () => {
    const renewed = await waitFor('the operator to renew the KES server certificate and the secret-id', async () => {
      const want = await expected(stack);
      const later = (want.certificates.get('kes-server')?.expiration ?? 0) > (first.certificates.get('kes-server')?.expiration ?? 0) && want.secretId.expiration > first.secretId.expiration;
      return later && differences(await scrape(port), want).length === 0 ? want : undefined;
    }, 150_000, 500);
    assert.ok((renewed.certificates.get('kes-server')?.notBefore ?? 0) > (first.certificates.get('kes-server')?.notBefore ?? 0));
  });

  it('after a deletion: no series of the deployment is left', async () => {
    const samples = await scrape(port);
    assert.ok(select(samples, 'kmsstack_kmsdeployment_condition', { name: NAME }).length > 0);
    await stack.kube.delete(resources.KMSDeployment, NS, NAME);
    await waitFor('the KMSDeployment to be gone', async () => ((await getKMSDeployment(stack.kube, NS, NAME)) ? undefined : true), 60_000, 200);
    const left = await waitFor('its series to be gone', async () => {
      const now = (await scrape(port)).filter((s) => s.name.startsWith('kmsstack_kmsdeployment_') && s.labels['name'] === NAME);
      return now.length === 0 ? now : undefined;
    }, 10_000, 200);
    assert.deepEqual(left, []);
  });

  it('with Vault down: Vault request errors counted with reason Unreachable, and VaultConfigured=False in the condition gauge (what KMSStackVaultUnavailable and KMSStackNotReady read)', async () => {
    const errors = (samples: Sample[]) => total(samples, 'kmsstack_vault_request_errors_total', { reason: 'Unreachable' });
    const before = errors(await scrape(port));
    await stack.vault.halt(); // the last test: a dev-mode Vault does not come back with its data
    await stack.kube.create(vaultDeployment(stack, 'outage'));
    await waitForCondition(stack, 'outage', { status: 'False', reason: 'Unreachable' }, 60_000, 'VaultConfigured');
    const samples = await waitFor('the gauge to show VaultConfigured=False', async () => {
      const now = await scrape(port);
      return valueOf(now, 'kmsstack_kmsdeployment_condition', { namespace: NS, name: 'outage', type: 'VaultConfigured', status: 'False' }) === 1 ? now : undefined;
    }, 10_000, 200);
    assert.ok(errors(samples) > before, `Unreachable errors counted (${before} -> ${errors(samples)})`);
    assert.ok(total(samples, 'kmsstack_vault_requests_total', { code: '0' }) > 0, 'requests without an answer carry code 0');
  });
});
