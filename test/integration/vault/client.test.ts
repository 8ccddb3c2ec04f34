// VaultClient's transport behaviour against a local HTTP server that answers like Vault does in
// failure cases (5xx bursts, 4xx, slow answers, redirects), and records the headers it receives.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { VaultClient } from '../../../src/vault/client.ts';
import { VaultRequestError } from '../../../src/vault/errors.ts';

let server: Server;
let address: string;
const seen: IncomingMessage[] = [];
let script: Array<{ status: number; body: unknown; delayMs?: number; headers?: Record<string, string> }> = [];

before(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    const next = script.shift() ?? { status: 200, body: { data: {} } };
    setTimeout(() => {
      res.writeHead(next.status, { 'Content-Type': 'application/json', ...next.headers });
      res.end(JSON.stringify(next.body));
    }, next.delayMs ?? 0).unref();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  address = `http://127.0.0.1:${port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const fast = { attempts: 3, baseDelayMs: 5, maxDelayMs: 10 };

/** A client of the scripted server that will give `answers` in turn, with the record of requests cleared. */
function clientAnswering(answers: typeof script, options: Partial<ConstructorParameters<typeof VaultClient>[0]> = {}): VaultClient {
  seen.length = 0;
  script = answers;
  return new VaultClient({ address, retry: fast, ...options });
}

test('the namespace header goes on every call except root-only ones; the token only where given', async () => {
  seen.length = 0;
  const client = new VaultClient({ address, namespace: 'team-a', retry: fast });
  await client.call({ method: 'GET', path: 'sys/policies/acl/x', token: 'tok-1', operation: 'read' });
  await client.call({ method: 'GET', path: 'sys/health', operation: 'health', withoutNamespace: true });
  assert.equal(seen[0]?.headers['x-vault-namespace'], 'team-a');
  assert.equal(seen[0]?.headers['x-vault-token'], 'tok-1');
  assert.equal(seen[1]?.headers['x-vault-namespace'], undefined);
  assert.equal(seen[1]?.headers['x-vault-token'], undefined);
});

test('VAULT_TOKEN and VAULT_NAMESPACE in the environment are never sent', async () => {
  seen.length = 0;
  process.env.VAULT_TOKEN = 'env-token';
  process.env.VAULT_NAMESPACE = 'env-ns';
  try {
    const client = new VaultClient({ address, retry: fast });
    await client.call({ method: 'POST', path: 'auth/approle/login', json: { role_id: 'r', secret_id: 's' }, operation: 'login', login: true });
  } finally {
    delete process.env.VAULT_TOKEN;
    delete process.env.VAULT_NAMESPACE;
  }
  assert.equal(seen[0]?.headers['x-vault-token'], undefined);
  assert.equal(seen[0]?.headers['x-vault-namespace'], undefined);
});

test('5xx answers are retried and the call succeeds when Vault recovers', async () => {
  const client = clientAnswering([{ status: 500, body: { errors: ['internal'] } }, { status: 502, body: {} }, { status: 200, body: { data: { ok: true } } }]);
  const body = await client.call({ method: 'GET', path: 'x', operation: 'read x' });
  assert.deepEqual(body?.['data'], { ok: true });
  assert.equal(seen.length, 3);
});

test('4xx answers are not retried', async () => {
  const client = clientAnswering([{ status: 403, body: { errors: ['permission denied'] } }]);
  await assert.rejects(client.call({ method: 'GET', path: 'x', token: 't', operation: 'read x' }), { reason: 'PermissionDenied' });
  assert.equal(seen.length, 1);
});

test('an answer slower than the timeout is Unreachable, after the retries', async () => {
  const client = clientAnswering([{ status: 200, body: {}, delayMs: 500 }, { status: 200, body: {}, delayMs: 500 }], { timeoutMs: 100, retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 5 } });
  const err = await client.call({ method: 'GET', path: 'slow', operation: 'read slow' }).catch((e: unknown) => e);
  assert.ok(err instanceof VaultRequestError);
  assert.equal(err.reason, 'Unreachable');
  assert.equal(seen.length, 2);
});

test('a sealed answer is Sealed and not retried', async () => {
  const client = clientAnswering([{ status: 503, body: { errors: ['Vault is sealed'] } }]);
  await assert.rejects(client.call({ method: 'GET', path: 'x', operation: 'read x' }), { reason: 'Sealed' });
  assert.equal(seen.length, 1);
});

test('a redirect is never followed: the origin it names gets no token, no JWT, no secret-id', async () => {
  const stolen: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
  const thief = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      stolen.push({ headers: req.headers, body });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ auth: { client_token: 'hvs.thief-minted-token-0123456789' }, data: {} }));
    });
  });
  await new Promise<void>((resolve) => thief.listen(0, '127.0.0.1', resolve));
  const thiefAddress = `http://127.0.0.1:${(thief.address() as { port: number }).port}`;
  try {
    const client = new VaultClient({ address, retry: fast });
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvcGVyYXRvciJ9.c2lnbmF0dXJl';
    for (const status of [301, 302, 303, 307, 308]) {
      seen.length = 0;
      script = [{ status, body: {}, headers: { Location: `${thiefAddress}/v1/auth/kubernetes/login` } }];
      const login = await client.call({ method: 'POST', path: 'auth/kubernetes/login', json: { role: 'r', jwt }, login: true, secrets: [jwt], operation: 'log in' }).catch((e: unknown) => e);
      assert.ok(login instanceof VaultRequestError, `${status}: the login fails`);
      assert.equal(login.reason, 'RedirectRefused');
      assert.equal(login.retryable, false);
      assert.match(login.message, new RegExp(`^log in: Vault answered ${status}, a redirect; the operator never follows redirects`));
      assert.ok(!login.message.includes(thiefAddress), 'the message does not repeat the Location');
      const redirect = { status, body: {}, headers: { Location: `${thiefAddress}/v1/sys/policies/acl/x` } };
      script = [redirect, redirect];
      await assert.rejects(client.call({ method: 'GET', path: 'sys/policies/acl/x', token: 'hvs.operator-token-0123456789abcdef', operation: 'read' }), { reason: 'RedirectRefused' });
      await assert.rejects(client.call({ method: 'GET', path: 'sys/health', operation: 'health', withoutNamespace: true }), { reason: 'RedirectRefused' }, 'sys/health too');
      assert.equal(seen.length, 3, `${status}: each call reached the listed server once (no retry)`);
    }
    assert.deepEqual(stolen, [], 'the redirect target received nothing');
  } finally {
    thief.close();
  }
});
