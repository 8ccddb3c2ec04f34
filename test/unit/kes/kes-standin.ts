// A loopback HTTPS server that answers like the KES server of the pinned release does, for the
// routes the operator uses: same paths, methods, status codes and JSON error bodies
// ({"message": ...}), identity = SHA-256 of the client certificate's SubjectPublicKeyInfo, and
// policies as allow-lists of path patterns where a trailing "*" matches any suffix (see
// docs/kes.md for the sources). It keeps keys in memory and records every request it gets.
import { createCipheriv, createDecipheriv, randomBytes, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { identityOf, type Pem } from './tls-fixture.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  body: string;
  identity: string | undefined;
}

export interface StandIn {
  url: string;
  requests: RecordedRequest[];
  keys: Map<string, Buffer>;
  /** Simulates a keystore (Vault) that answers with errors: key operations fail with 502. */
  keystoreFailing: boolean;
  /** Simulates a keystore KES cannot reach: /v1/ready answers 504, status reports it. */
  keystoreUnreachable: boolean;
  close(): Promise<void>;
}

function matches(pattern: string, path: string): boolean {
  return pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : path === pattern;
}

/** KES's error encoding: a Go JSON encoder's output (with its trailing newline) inside {"message": ...}. */
function fail(res: ServerResponse, status: number, message: string): void {
  const body = `{"message":${JSON.stringify(message)}\n}`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function reply(res: ServerResponse, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function seal(key: Buffer, plaintext: Buffer, context: Buffer): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(context);
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]);
}

function open(key: Buffer, ciphertext: Buffer, context: Buffer): Buffer | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, ciphertext.subarray(0, 12)).setAAD(context);
    decipher.setAuthTag(ciphertext.subarray(12, 28));
    return Buffer.concat([decipher.update(ciphertext.subarray(28)), decipher.final()]);
  } catch {
    return undefined;
  }
}

const keyRoutes = ['/v1/key/create/', '/v1/key/delete/', '/v1/key/list/', '/v1/key/generate/', '/v1/key/decrypt/'] as const;

export async function startStandIn(serverPem: Pem, caPem: string, policies: Record<string, { allow: string[]; identities: string[] }>): Promise<StandIn> {
  const sockets = new Set<Socket>();
  const state: StandIn = {
    url: '',
    requests: [],
    keys: new Map(),
    keystoreFailing: false,
    keystoreUnreachable: false,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body: string): void => {
    const path = new URL(req.url ?? '/', 'https://localhost').pathname;
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    const identity = peer && peer.raw ? identityOf(new X509Certificate(peer.raw).toString()) : undefined;
    state.requests.push({ method: req.method ?? '', path, contentType: req.headers['content-type'], body, identity });

    const route = keyRoutes.find((r) => path.startsWith(r)) ?? path;
    const known = ['/v1/status', '/v1/ready', ...keyRoutes];
    if (!known.includes(route)) return fail(res, 404, '404 page not found');
    const method = route === '/v1/key/delete/' ? 'DELETE' : route === '/v1/status' || route === '/v1/ready' || route === '/v1/key/list/' ? 'GET' : 'PUT';
    if (req.method !== method && !(req.method === 'POST' && method === 'PUT')) return fail(res, 405, `received method '${req.method}' expected '${method}'`);
    if (!identity) return fail(res, 400, 'tls: client certificate is required');
    const policy = Object.values(policies).find((p) => p.identities.includes(identity));
    if (!policy || !policy.allow.some((pattern) => matches(pattern, path))) return fail(res, 403, 'not authorized: insufficient permissions');

    const resource = path.slice(route.length);
    const json = body ? (JSON.parse(body) as { context?: string; ciphertext?: string }) : {};
    const context = Buffer.from(json.context ?? '', 'base64');
    switch (route) {
      case '/v1/ready':
        return state.keystoreUnreachable ? fail(res, 504, 'key store is not reachable') : reply(res, {});
      case '/v1/status':
        return reply(res, {
          version: '2025-03-12T09-35-18Z',
          os: 'linux',
          arch: 'amd64',
          uptime: 42,
          num_cpu: 2,
          num_cpu_used: 2,
          mem_heap_used: 1,
          mem_stack_used: 1,
          ...(state.keystoreUnreachable ? { keystore_unreachable: true } : { keystore_latency: 3 }),
        });
      case '/v1/key/create/':
        if (state.keystoreFailing) return fail(res, 502, 'failed to create key');
        if (state.keys.has(resource)) return fail(res, 400, 'key already exists');
        state.keys.set(resource, randomBytes(32));
        return reply(res, {});
      case '/v1/key/delete/':
        if (state.keystoreFailing) return fail(res, 502, 'failed to delete key');
        // KES on Vault reports success for a key that does not exist.
        state.keys.delete(resource);
        return reply(res, {});
      case '/v1/key/list/': {
        // Vault answers LIST on a prefix without entries with 404, which KES passes on as a 502.
        if (state.keystoreFailing || state.keys.size === 0) return fail(res, 502, 'failed to list keys');
        const prefix = resource === '*' ? '' : resource;
        return reply(res, { names: [...state.keys.keys()].filter((k) => k.startsWith(prefix)) });
      }
      default: {
        if (state.keystoreFailing) return fail(res, 502, 'failed to read key');
        const key = state.keys.get(resource);
        if (!key) return fail(res, 404, 'key does not exist');
        if (route === '/v1/key/generate/') {
          const plaintext = randomBytes(32);
          return reply(res, { plaintext: plaintext.toString('base64'), ciphertext: seal(key, plaintext, context).toString('base64') });
        }
        const plaintext = open(key, Buffer.from(json.ciphertext ?? '', 'base64'), context);
        if (!plaintext) return fail(res, 400, 'decryption failed: ciphertext is not authentic');
        return reply(res, { plaintext: plaintext.toString('base64') });
      }
    }
  };

  const server: Server = createServer({ key: serverPem.key, cert: serverPem.cert, ca: caPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  server.on('secureConnection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
