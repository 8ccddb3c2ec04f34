// A KES endpoint that drips bytes must not hold the caller past the client's deadline, and one that
// sends a huge body must not be buffered (the stand-ins are plain loopback servers with KES's cert).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KesClient } from '../../../src/kes/client.ts';
import { KesError } from '../../../src/kes/errors.ts';
import { startHostileServer, type HostileServer } from '../../support/hostile-http.ts';
import { issue, makeCa, type Pem } from './tls-fixture.ts';

describe('KesClient limits', { timeout: 30_000 }, () => {
  let ca: Awaited<ReturnType<typeof makeCa>>;
  let operator: Pem;
  let drip: HostileServer;
  let huge: HostileServer;
  const clients: KesClient[] = [];
  const clientFor = (url: string) => {
    const client = new KesClient({ endpoint: url, clientCert: operator.cert, clientKey: operator.key, ca: ca.cert, serverName: 'localhost', timeoutMs: 500 });
    clients.push(client);
    return client;
  };

  before(async () => {
    ca = await makeCa();
    const server = await issue(ca, 'kes', 'server');
    operator = await issue(ca, 'operator', 'client');
    drip = await startHostileServer('drip', { tls: server });
    huge = await startHostileServer('huge', { tls: server, hugeBytes: 16 * 1024 * 1024 });
  });
  after(async () => {
    for (const client of clients) client.close();
    await drip.close();
    await huge.close();
  });

  it('gives up at the deadline although bytes keep arriving', async () => {
    const started = Date.now();
    await assert.rejects(clientFor(drip.url).status(), (err: unknown) => {
      assert.ok(err instanceof KesError);
      assert.equal(err.reason, 'Unreachable');
      assert.match(err.message, /no complete answer within 500ms/);
      return true;
    });
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
  });

  it('stops reading an answer larger than 1 MiB', async () => {
    await assert.rejects(clientFor(huge.url).status(), /UnexpectedResponse \(answer larger than 1048576 bytes\)/);
  });
});
