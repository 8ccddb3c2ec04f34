import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KesClient } from '../../../src/kes/client.ts';
import { KesError, kesErrorFromNetwork, kesErrorFromResponse } from '../../../src/kes/errors.ts';
import { startStandIn, type StandIn } from './kes-standin.ts';
import { identityOf, issue, KesClients, kesTestPki, makeCa, type Pem } from './tls-fixture.ts';

async function rejectsWith(promise: Promise<unknown>, reason: string, status?: number): Promise<KesError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof KesError, `expected a KesError, got ${String(err)}`);
    assert.equal(err.reason, reason, err.message);
    assert.equal(err.status, status);
    return err;
  }
  assert.fail(`expected a KesError ${reason}`);
}

describe('kesErrorFromResponse', () => {
  const json = 'application/json';
  const cases: [number, string | undefined, string, string][] = [
    [403, json, '{"message":"not authorized: insufficient permissions"}', 'PolicyDenied'],
    [404, json, '{"message":"key does not exist"}', 'KeyNotFound'],
    [404, 'text/plain; charset=utf-8', '404 page not found', 'UnexpectedResponse'],
    [400, json, '{"message":"key already exists"}', 'KeyExists'],
    [400, json, '{"error":"key does already exist"}', 'KeyExists'],
    [400, json, '{"message":"decryption failed: ciphertext is not authentic"}', 'DecryptionFailed'],
    [400, json, '{"message":"tls: client certificate is required"}', 'BadRequest'],
    [502, json, '{"message":"failed to create key"}', 'KeystoreError'],
    [504, json, '{"message":"key store is not reachable"}', 'KeystoreUnreachable'],
    [500, json, '{"message":"failed to generate encryption key"}', 'UnexpectedResponse'],
    [503, json, 'not json at all', 'UnexpectedResponse'],
  ];
  for (const [status, contentType, body, reason] of cases) {
    it(`maps HTTP ${status} ${body} to ${reason}`, () => {
      const err = kesErrorFromResponse('create key k', status, contentType, body);
      assert.equal(err.reason, reason);
      assert.equal(err.status, status);
      assert.match(err.message, new RegExp(`^KES create key k: ${reason} \\(HTTP ${status}`));
    });
  }

  it('quotes the server message and truncates long bodies', () => {
    assert.equal(
      kesErrorFromResponse('status', 502, json, '{"message":"failed to read key"}').message,
      'KES status: KeystoreError (HTTP 502: failed to read key)',
    );
    const long = kesErrorFromResponse('status', 500, 'text/plain', 'x'.repeat(1000)).message;
    assert.ok(long.length < 400, long);
  });

  it('maps network failures to Unreachable with their code', () => {
    const err = kesErrorFromNetwork('status', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }));
    assert.equal(err.reason, 'Unreachable');
    assert.equal(err.status, undefined);
    assert.equal(err.message, 'KES status: Unreachable (ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1)');
  });
});

describe('KesClient against a KES stand-in over mTLS', () => {
  let ca: Awaited<ReturnType<typeof makeCa>>;
  let operator: Pem;
  let minio: Pem;
  let stranger: Pem;
  let kes: StandIn;
  const clients = new KesClients();
  const clientFor = (pem: Pem, extra: Partial<ConstructorParameters<typeof KesClient>[0]> = {}): KesClient => clients.connect(kes.url, pem, ca.cert, extra);

  before(async () => {
    const pki = await kesTestPki();
    ({ ca, operator } = pki);
    const server = pki.server;
    minio = await issue(ca, 'minio', 'client');
    stranger = await issue(ca, 'stranger', 'client');
    kes = await startStandIn(server, ca.cert, {
      operator: { allow: ['/v1/key/create/minio-key-1', '/v1/key/create/old-key', '/v1/key/delete/*', '/v1/key/list/*', '/v1/status', '/v1/ready'], identities: [identityOf(operator.cert)] },
      minio: { allow: ['/v1/key/generate/minio-key-1', '/v1/key/decrypt/minio-key-1'], identities: [identityOf(minio.cert)] },
    });
  });
  after(async () => {
    clients.closeAll();
    await kes.close();
  });

  it('creates a key with PUT and no body, and treats an existing key as success', async () => {
    const client = clientFor(operator);
    assert.equal(await client.createKey('minio-key-1'), 'created');
    assert.equal(await client.createKey('minio-key-1'), 'exists');
    const sent = kes.requests.filter((r) => r.path === '/v1/key/create/minio-key-1');
    assert.equal(sent.length, 2);
    assert.deepEqual(
      sent.map((r) => [r.method, r.body, r.identity]),
      [['PUT', '', identityOf(operator.cert)], ['PUT', '', identityOf(operator.cert)]],
    );
  });

  it('reports PolicyDenied for a path outside the policy and for an unknown identity', async () => {
    await rejectsWith(clientFor(operator).createKey('other-key'), 'PolicyDenied', 403);
    await rejectsWith(clientFor(stranger).status(), 'PolicyDenied', 403);
    assert.equal(kes.keys.has('other-key'), false);
  });

  it('lists keys with the "*" pattern and with a literal prefix', async () => {
    const client = clientFor(operator);
    assert.deepEqual(await client.listKeys(), ['minio-key-1']);
    assert.equal(kes.requests.at(-1)?.path, '/v1/key/list/*');
    assert.deepEqual(await client.listKeys('nothing'), []);
    assert.equal(kes.requests.at(-1)?.path, '/v1/key/list/nothing');
  });

  it('round-trips a data key with a context, and rejects a wrong context as DecryptionFailed', async () => {
    const client = clientFor(minio);
    const context = Buffer.from('{"verify":"kmsstack"}');
    const dek = await client.generateKey('minio-key-1', context);
    assert.equal(dek.plaintext.length, 32);
    const generate = kes.requests.at(-1);
    assert.equal(generate?.method, 'PUT');
    assert.equal(generate?.path, '/v1/key/generate/minio-key-1');
    assert.equal(generate?.contentType, 'application/json');
    assert.deepEqual(JSON.parse(generate?.body ?? ''), { context: context.toString('base64') });

    assert.deepEqual(await client.decrypt('minio-key-1', dek.ciphertext, context), dek.plaintext);
    assert.deepEqual(JSON.parse(kes.requests.at(-1)?.body ?? ''), {
      ciphertext: dek.ciphertext.toString('base64'),
      context: context.toString('base64'),
    });
    await rejectsWith(client.decrypt('minio-key-1', dek.ciphertext, Buffer.from('other')), 'DecryptionFailed', 400);
  });

  it('reports KeyNotFound for a key that does not exist', async () => {
    kes.keys.delete('minio-key-1');
    try {
      await rejectsWith(clientFor(minio).generateKey('minio-key-1'), 'KeyNotFound', 404);
    } finally {
      await clientFor(operator).createKey('minio-key-1');
    }
  });

  it('reports KeystoreError when the keystore fails and KeystoreUnreachable when KES cannot reach it', async () => {
    const client = clientFor(operator);
    kes.keystoreFailing = true;
    try {
      await rejectsWith(client.createKey('minio-key-1'), 'KeystoreError', 502);
    } finally {
      kes.keystoreFailing = false;
    }
    kes.keystoreUnreachable = true;
    try {
      await rejectsWith(client.ready(), 'KeystoreUnreachable', 504);
      const status = await client.status();
      assert.equal(status.keystoreUnreachable, true);
      assert.equal(status.keystoreLatencyMs, undefined);
    } finally {
      kes.keystoreUnreachable = false;
    }
    await client.ready();
  });

  it('deletes a key with DELETE, also when it is already gone', async () => {
    const client = clientFor(operator);
    await client.createKey('old-key');
    await client.deleteKey('old-key');
    assert.equal(kes.keys.has('old-key'), false);
    assert.deepEqual([kes.requests.at(-1)?.method, kes.requests.at(-1)?.path], ['DELETE', '/v1/key/delete/old-key']);
    await client.deleteKey('old-key');
    await rejectsWith(clientFor(minio).deleteKey('minio-key-1'), 'PolicyDenied', 403);
    assert.ok(kes.keys.has('minio-key-1'));
  });

  it('parses the status answer', async () => {
    assert.deepEqual(await clientFor(operator).status(), {
      version: '2025-03-12T09-35-18Z',
      os: 'linux',
      arch: 'amd64',
      uptimeSeconds: 42,
      keystoreLatencyMs: 3,
      keystoreUnreachable: false,
    });
  });

  it('rejects an invalid key name before sending anything', async () => {
    const before = kes.requests.length;
    await assert.rejects(clientFor(operator).createKey('bad.name'), /invalid KES key name "bad.name"/);
    await assert.rejects(clientFor(minio).generateKey('-x'), /must not start or end with "-"/);
    assert.equal(kes.requests.length, before);
  });

  it('is Unreachable when the server certificate is not from the trusted CA or nothing listens', async () => {
    const otherCa = await makeCa('other-ca');
    await rejectsWith(clientFor(operator, { ca: otherCa.cert }).status(), 'Unreachable');
    await rejectsWith(clientFor(operator, { endpoint: 'https://127.0.0.1:1' }).status(), 'Unreachable');
    assert.throws(() => new KesClient({ endpoint: 'http://127.0.0.1:7373', clientCert: '', clientKey: '', ca: '' }), /must be an https:\/\/ URL/);
  });
});
