// The limits of the Vault transport: a total deadline per attempt, a size cap, no decompression, and
// the typed errors a step turns into a condition.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VaultClient } from '../../../src/vault/client.ts';
import { VaultRequestError } from '../../../src/vault/errors.ts';
import { startHostileServer, type HostileServer } from '../../support/hostile-http.ts';

const once = { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 };

async function failure(client: VaultClient): Promise<VaultRequestError> {
  const started = Date.now();
  try {
    await client.call({ method: 'GET', path: 'sys/health', operation: 'read health', token: 'hvs.secret-token-value-abcdefghijkl' });
  } catch (err) {
    assert.ok(err instanceof VaultRequestError, String(err));
    assert.ok(Date.now() - started < 5000, 'failed promptly');
    assert.doesNotMatch(err.message, /secret-token-value/);
    return err;
  }
  assert.fail('expected the call to fail');
}

describe('Vault transport limits', { timeout: 30_000 }, () => {
  let drip: HostileServer;
  let huge: HostileServer;
  let misc: { url: string; close: () => void };
  before(async () => {
    drip = await startHostileServer('drip');
    huge = await startHostileServer('huge', { hugeBytes: 64 * 1024 * 1024 });
    const server = createServer((req, res) => {
      if (req.url?.includes('gzip')) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync('{"data":{}}'));
      } else if (req.url?.includes('redirect')) {
        res.writeHead(307, { location: `${drip.url}/v1/stolen` }).end();
      } else if (req.url?.includes('declared')) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024) }).end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{"ok":true}}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    misc = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
  });
  after(async () => {
    await drip.close();
    await huge.close();
    misc.close();
  });

  it('ends an attempt at its deadline although the server keeps sending bytes', async () => {
    const err = await failure(new VaultClient({ address: drip.url, timeoutMs: 600, retry: once }));
    assert.equal(err.reason, 'Unreachable');
    assert.equal(err.message, 'read health: Vault gave no complete answer within 600 ms');
    assert.equal(err.retryable, true);
  });

  it('stops reading an answer larger than the cap, streamed or declared', async () => {
    const err = await failure(new VaultClient({ address: huge.url, maxResponseBytes: 1024 * 1024, retry: once }));
    assert.equal(err.reason, 'ServerError');
    assert.equal(err.message, 'read health: Vault\'s answer is larger than 1048576 bytes');
    const declared = new VaultClient({ address: misc.url, maxResponseBytes: 1024 * 1024, retry: once });
    await assert.rejects(declared.call({ method: 'GET', path: 'declared', operation: 'read declared' }), /larger than 1048576 bytes/);
  });

  it('refuses a compressed answer instead of inflating it', async () => {
    const client = new VaultClient({ address: misc.url, retry: once });
    await assert.rejects(client.call({ method: 'GET', path: 'gzip', operation: 'read gzip' }), /content-encoding "gzip", which the operator does not accept/);
  });

  it('does not follow a redirect (the token would go along)', async () => {
    const before = drip.requests.length;
    const client = new VaultClient({ address: misc.url, retry: once });
    await assert.rejects(client.call({ method: 'GET', path: 'redirect', operation: 'read redirect', token: 'hvs.secret-token-value-abcdefghijkl' }), /Vault answered 307/);
    assert.equal(drip.requests.length, before, 'the redirect target got no request');
  });

  it('still reads a normal answer, with the default limits', async () => {
    const client = new VaultClient({ address: misc.url, retry: once });
    assert.deepEqual(await client.call({ method: 'GET', path: 'sys/health', operation: 'read health' }), { data: { ok: true } });
  });
});
