// spec.kes.metrics and spec.minio.metrics against the real programs: KES run from the config the
// operator renders serves /v1/metrics without a client certificate only when metrics are enabled, and
// MinIO run with the environment the operator renders serves its metrics without a token only with
// auth Public; both at the path and port the pod annotations name. Skipped, with one line each, when
// the kes or minio program is missing (test/env/programs.ts).
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { applyDefaults, type DefaultedKMSDeploymentSpec, type KMSDeploymentSpec } from '../../../src/api/index.ts';
import { KesClient } from '../../../src/kes/client.ts';
import { buildKesDeployment } from '../../../src/kes/deployment.ts';
import { checksumOf } from '../../../src/workload/checksum.ts';
import { buildMinioEnv } from '../../../src/minio/env.ts';
import { buildMinioStatefulSet } from '../../../src/minio/statefulset.ts';
import { startKesOnVault, type KesOnVault } from '../../env/kes-on-vault.ts';
import { startMinio, type TestMinio } from '../../env/minio.ts';
import { missingProgram } from '../../env/programs.ts';

const KEY = 'minio-key-1';

/** A GET over TLS that trusts `ca` and presents no client certificate: how Prometheus scrapes. */
function scrapeTls(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, servername: 'localhost', checkServerIdentity: () => undefined }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

type Annotated = { spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } };
const annotationsOf = (workload: Annotated) => workload.spec?.template?.metadata?.annotations ?? {};

function withMetrics(spec: DefaultedKMSDeploymentSpec, kes: object, minio: object): DefaultedKMSDeploymentSpec {
  return applyDefaults({ ...spec, kes: { ...spec.kes, metrics: kes }, minio: { ...spec.minio, metrics: minio } } as KMSDeploymentSpec);
}

describe("KES's and MinIO's own metrics (real programs)", { skip: missingProgram('kes'), timeout: 180_000 }, () => {
  let env: KesOnVault;
  let minio: TestMinio | undefined;

  before(async () => {
    env = await startKesOnVault({ kvVersion: 'v1', keys: [KEY], keyName: KEY });
    const operator = new KesClient({ endpoint: env.kes.url, clientCert: env.operatorClient.cert, clientKey: env.operatorClient.key, ca: env.ca.cert });
    try {
      await operator.createKey(KEY);
    } finally {
      operator.close();
    }
  });
  after(async () => {
    await minio?.stop();
    await env?.stop();
  });

  it('KES: /v1/metrics needs a client certificate by default, and not with spec.kes.metrics.enabled; the annotations name it', async () => {
    const base = env.specFor([KEY], KEY);
    assert.equal(base.kes?.metrics.enabled, false);
    const denied = await scrapeTls(`${env.kes.url}/v1/metrics`, env.ca.cert);
    // KES answers a request without a client certificate on an authenticated path with 400.
    assert.ok([400, 401, 403].includes(denied.status), `without metrics enabled: HTTP ${denied.status} ${denied.body}`);

    const spec = withMetrics(base, { enabled: true }, {});
    await env.rollKes(spec);
    const annotations = annotationsOf(buildKesDeployment({ deployment: env.ref, spec, configChecksum: checksumOf(['c']), appRoleChecksum: 'a'.repeat(64) }));
    assert.equal(annotations['prometheus.io/scrape'], 'true');
    assert.equal(annotations['prometheus.io/scheme'], 'https');
    assert.equal(annotations['prometheus.io/port'], '7373', "KES's container port (the test's KES listens on a port of its own)");
    const scraped = await scrapeTls(`${env.kes.url}${annotations['prometheus.io/path']}`, env.ca.cert);
    assert.equal(scraped.status, 200, scraped.body.slice(0, 200));
    assert.match(scraped.body, /^# (HELP|TYPE) kes_/m, 'Prometheus text format of KES');
  });

  it('MinIO: the cluster metrics need a token with auth JWT (the default) and not with auth Public; the annotations name them', { skip: missingProgram('minio') }, async () => {
    // The test's MinIO serves plain HTTP, so the spec says so (S3 TLS is on by default).
    const base = env.specFor([KEY], KEY);
    const jwt = withMetrics({ ...base, minio: { ...base.minio, tls: { ...base.minio.tls, enabled: false } } }, { enabled: false }, { enabled: true });
    assert.equal(jwt.minio.metrics.auth, 'JWT');
    const annotations = annotationsOf(buildMinioStatefulSet({ deployment: env.ref, spec: jwt, configChecksum: 'c'.repeat(64) }));
    assert.equal(annotations['prometheus.io/scheme'], 'http');
    minio = await startMinio({ env: buildMinioEnv(env.ref, jwt), kesUrl: env.kes.url, kesIdentity: { ...env.minioClient, ca: env.ca.cert } });
    // The test's MinIO listens on a port of its own; the annotations name the container's port 9000.
    assert.equal(annotations['prometheus.io/port'], '9000');
    const metricsUrl = `${minio.url}${annotations['prometheus.io/path']}`;
    const denied = await fetch(metricsUrl);
    assert.ok([400, 401, 403].includes(denied.status), `auth JWT without a token: HTTP ${denied.status}`);

    const open = withMetrics(jwt, { enabled: false }, { enabled: true, auth: 'Public' });
    await minio.restart(buildMinioEnv(env.ref, open));
    const scraped = await fetch(metricsUrl);
    const body = await scraped.text();
    assert.equal(scraped.status, 200, body.slice(0, 200));
    assert.match(body, /^# (HELP|TYPE) minio_/m, 'Prometheus text format of MinIO');
  });
});
