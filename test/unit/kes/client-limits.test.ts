// A KES endpoint that drips bytes must not hold the caller past the client's deadline, and one that
// sends a huge body must not be buffered (the stand-ins are plain loopback servers with KES's cert).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KesError } from '../../../src/kes/errors.ts';
import { startHostileServer, type HostileServer } from '../../support/hostile-http.ts';
import { KesClients, kesTestPki, type makeCa, type Pem } from './tls-fixture.ts';

describe('KesClient limits', { timeout: 30_000 }, () => {
  let ca: Awaited<ReturnType<typeof makeCa>>;
  let operator: Pem;
  let drip: HostileServer;
  let huge: HostileServer;
  const clients = new KesClients();
  const clientFor = (url: string) => clients.connect(url, operator, ca.cert, { timeoutMs: 500 });

  before(async () => {
    const pki = await kesTestPki();
    ({ ca, operator } = pki);
    drip = await startHostileServer('drip', { tls: pki.server });
    huge = await startHostileServer('huge', { tls: pki.server, hugeBytes: 16 * 1024 * 1024 });
  });
  after(async () => {
    clients.closeAll();
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
