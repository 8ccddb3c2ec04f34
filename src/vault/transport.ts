// The HTTP transport under node-vault (its "request-promise" hook). node-vault's own transport
// (axios) offers none of what the operator needs through node-vault's options:
// - no redirect is ever followed: axios follows up to five to any origin, re-sending X-Vault-Token
//   and, on a 307/308, the login body with the JWT or secret-id. Vault never needs a redirect
//   (standbys forward), so a 3xx is an error naming its status and its Location is not contacted;
// - no Vault server, listed or not, can hold a worker or the operator's memory: every attempt has a
//   total deadline from connect to the last byte (a server that drips one byte a second never trips
//   an inactivity timeout), the body is capped in bytes, and nothing is decompressed (a small gzip
//   body could expand past any cap).
import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { vaultRequestDuration, vaultRequests } from '../runtime/metrics.ts';
import { vaultOperationLabel } from './request-labels.ts';
import { readCappedBody } from '../runtime/http-body.ts';

export interface TransportLimits {
  /** Connect to last byte, per attempt. */
  deadlineMs: number;
  maxResponseBytes: number;
}

/** Vault's answers the operator reads are policies, roles and lists of key names: a few KiB to a few hundred. */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export interface TransportTls {
  caPem?: string;
  servername?: string;
}

/** A limit of this transport was hit; the message is for the user and holds no request data. */
export class VaultLimitError extends Error {
  override readonly name = 'VaultLimitError';
  constructor(
    readonly limit: 'deadline' | 'size' | 'encoding',
    message: string,
  ) {
    super(message);
  }
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

/** What node-vault hands its transport (a subset of request's options). */
interface TransportOptions {
  uri: string;
  method: string;
  headers?: Record<string, string>;
  json?: unknown;
}

/** The shape node-vault expects back (request-promise with resolveWithFullResponse). */
interface TransportResponse {
  statusCode: number;
  body: unknown;
  request: { path: string };
}

type Send = (options: TransportOptions) => Promise<TransportResponse>;

/** The object node-vault takes as `request-promise`: it only calls defaults(), then the function. */
export function boundedTransport(tls: TransportTls, limits: TransportLimits): { defaults: () => Send } {
  // Keep-alive pools per client. rejectUnauthorized is explicit so that VAULT_SKIP_VERIFY or
  // NODE_TLS_REJECT_UNAUTHORIZED in the environment cannot turn verification off.
  const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 8, rejectUnauthorized: true,
    ...(tls.caPem ? { ca: tls.caPem } : {}), ...(tls.servername ? { servername: tls.servername } : {}) });
  const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 8 });
  const send: Send = (options) => {
    const url = new URL(options.uri);
    const operation = vaultOperationLabel(options.method, url.pathname);
    const started = performance.now();
    // Every attempt is counted once, with its status (0: no complete answer, e.g. a deadline or a cap).
    const record = (code: number) => {
      vaultRequests.inc({ operation, code: String(code) });
      vaultRequestDuration.observe({ operation }, (performance.now() - started) / 1000);
    };
    const payload = options.json !== undefined && typeof options.json === 'object'
      ? Buffer.from(JSON.stringify(options.json))
      : undefined;
    const headers: Record<string, string> = {
      ...options.headers,
      accept: 'application/json',
      'accept-encoding': 'identity',
      'content-length': String(payload?.length ?? 0),
      ...(payload ? { 'content-type': 'application/json' } : {}),
    };
    const https = url.protocol === 'https:';
    return new Promise<TransportResponse>((resolve, reject) => {
      let settled = false;
      // The first failure wins: a deadline also makes the socket report a reset, which must not hide it.
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        record(err instanceof VaultRedirectError ? err.response.statusCode : 0);
        clearTimeout(timer);
        req.destroy();
        reject(err);
      };
      const req = (https ? httpsRequest : httpRequest)(url, { method: options.method, headers,
        agent: https ? httpsAgent : httpAgent }, (res) => {
        if (isRedirect(res.statusCode ?? 0)) {
          res.resume();
          fail(new VaultRedirectError(res.statusCode ?? 0));
          return;
        }
        readCapped(res, limits.maxResponseBytes).then((text) => {
          if (settled) return;
          settled = true;
          record(res.statusCode ?? 0);
          clearTimeout(timer);
          resolve({ statusCode: res.statusCode ?? 0, body: parseBody(text), request: { path: url.pathname } });
        }, fail);
      });
      const timer = setTimeout(
        () => fail(new VaultLimitError('deadline', `Vault gave no complete answer within ${limits.deadlineMs} ms`)),
        limits.deadlineMs,
      );
      req.on('error', fail);
      req.end(payload);
    });
  };
  return { defaults: () => send };
}

function readCapped(res: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const encoding = res.headers['content-encoding'];
    if (encoding && encoding !== 'identity') {
      reject(
        new VaultLimitError('encoding',
          `Vault answered with content-encoding ${
            JSON.stringify(encoding.slice(0, 32))
          }, which the operator does not accept`),
      );
      return;
    }
    const declared = Number(res.headers['content-length']);
    if (declared > maxBytes) {
      reject(new VaultLimitError('size', `Vault's answer is larger than ${maxBytes} bytes`));
      return;
    }
    readCappedBody(res, maxBytes, { done: resolve,
      tooLarge: () => reject(new VaultLimitError('size', `Vault's answer is larger than ${maxBytes} bytes`)) });
    res.on('error', reject);
    res.on('close', () => {
      if (!res.complete) reject(Object.assign(new Error('the answer was cut off'), { code: 'ECONNRESET' }));
    });
  });
}

/** JSON as request's `json: true` would give it; an empty body is undefined. */
function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
