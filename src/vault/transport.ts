// The HTTP transport under node-vault (its `request-promise` hook): node's own http/https request,
// which never follows a redirect. node-vault's default transport (axios) follows up to five of
// them to any origin, re-sending X-Vault-Token and, on a 307/308, the login body with the JWT or
// secret-id; a listed Vault (or anyone on its path) could thus hand the operator's credentials to
// a server nobody vetted. Vault itself never needs a redirect (standbys forward), so a 3xx is an
// error naming its status and nothing is sent to the Location it names.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface TransportOptions {
  /** PEM bundle to trust instead of the system roots. */
  caPem?: string;
  /** Host name to verify in the server certificate when it differs from the address's host. */
  tlsServerName?: string;
  /** Inactivity timeout of one attempt. */
  timeoutMs: number;
}

/** What node-vault hands its transport. */
interface TransportRequest {
  uri: string;
  method: string;
  headers?: Record<string, string>;
  json?: unknown;
}

/** What node-vault expects back (the shape of the request library it used to use). */
interface TransportResponse {
  statusCode: number;
  body: unknown;
  request: { path: string };
}

/** A 3xx answer: refused, its Location is not contacted. classifyVaultFailure reads the status. */
export class VaultRedirectError extends Error {
  override readonly name = 'VaultRedirectError';
  readonly code = 'VAULT_REDIRECT';
  readonly response: { statusCode: number; body: undefined };
  constructor(status: number) {
    super(`Vault answered ${status} (a redirect); the operator does not follow redirects`);
    this.response = { statusCode: status, body: undefined };
  }
}

export function isRedirect(status: number): boolean {
  return status >= 300 && status < 400;
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

/** node-vault's `request-promise` option: `defaults()` gives the function it sends every request with. */
export function vaultTransport(options: TransportOptions): { defaults: () => (request: TransportRequest) => Promise<TransportResponse> } {
  // Explicit values so VAULT_SKIP_VERIFY or NODE_TLS_REJECT_UNAUTHORIZED cannot turn verification off.
  const httpsAgent = new HttpsAgent({
    keepAlive: true, rejectUnauthorized: true,
    ...(options.caPem ? { ca: options.caPem } : {}),
    ...(options.tlsServerName ? { servername: options.tlsServerName } : {}),
  });
  const httpAgent = new HttpAgent({ keepAlive: true });
  const send = (request: TransportRequest): Promise<TransportResponse> =>
    new Promise((resolve, reject) => {
      const url = new URL(request.uri);
      const body = request.json === undefined ? undefined : JSON.stringify(request.json);
      const headers: Record<string, string | number> = { Accept: 'application/json', ...request.headers };
      if (body !== undefined) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      const https = url.protocol === 'https:';
      const req = (https ? httpsRequest : httpRequest)(url, { method: request.method, headers, agent: https ? httpsAgent : httpAgent }, (res) => {
        const status = res.statusCode ?? 0;
        if (isRedirect(status)) {
          res.resume();
          reject(new VaultRedirectError(status));
          return;
        }
        readAll(res).then((text) => resolve({ statusCode: status, body: parseBody(text), request: { path: url.pathname } }), reject);
      });
      req.setTimeout(options.timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${options.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(body);
    });
  return { defaults: () => send };
}
