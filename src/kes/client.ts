// A narrow KES HTTP client: the calls the operator makes with its own identity (create and list
// keys, status) and the round trip it checks with MinIO's identity (generate, decrypt). KES
// authenticates clients by their TLS certificate (mTLS), so every request goes over an agent that
// carries the client certificate and trusts only the deployment's CA.
import { Agent, request } from 'node:https';
import { kesRequestDuration, kesRequestErrors, kesRequests } from '../runtime/metrics.ts';
import { readCappedBody } from '../runtime/http-body.ts';
import { kesKeyNameProblem } from '../api/key-name.ts';
import { kesPaths, kesRouteLabel } from './api.ts';
import { KesError, kesErrorFromNetwork, kesErrorFromResponse } from './errors.ts';

export interface KesClientOptions {
  /** Base URL of the KES server, e.g. https://tenant-a-kes.storage.svc.cluster.local:7373 */
  endpoint: string;
  /** PEM client certificate whose public key is the identity KES authorizes. */
  clientCert: string;
  /** PEM private key of the client certificate. */
  clientKey: string;
  /** PEM CA bundle that signed the KES server certificate. */
  ca: string;
  /** Host name to verify in the server certificate when it differs from the endpoint's host. */
  serverName?: string;
  /** Per-request deadline, connect to last byte; KES itself times its routes out after 15s. */
  timeoutMs?: number;
}

export interface KesStatus {
  version: string;
  os: string;
  arch: string;
  uptimeSeconds: number;
  /** Keystore round-trip latency KES measured for this status call (milliseconds). */
  keystoreLatencyMs?: number;
  /** True when KES could not reach its keystore (Vault) for this status call. */
  keystoreUnreachable: boolean;
}

export interface DataKey {
  /** The plaintext data key: key material, never log it. */
  plaintext: Buffer;
  ciphertext: Buffer;
}

interface Answer {
  status: number;
  contentType: string | undefined;
  body: string;
}

const maxResponseBytes = 1024 * 1024;
const defaultTimeoutMs = 15_000;

export class KesClient {
  private readonly agent: Agent;
  private readonly base: URL;
  private readonly timeoutMs: number;

  constructor(options: KesClientOptions) {
    this.base = new URL(options.endpoint);
    if (this.base.protocol !== 'https:') throw new Error(`KES endpoint ${options.endpoint} must be an https:// URL`);
    this.timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    this.agent = new Agent({
      cert: options.clientCert,
      key: options.clientKey,
      ca: options.ca,
      keepAlive: true,
      maxSockets: 4,
      minVersion: 'TLSv1.2',
      ...(options.serverName ? { servername: options.serverName } : {}),
    });
  }

  /** Creates master key `name`; an existing key counts as success ("exists"). */
  async createKey(name: string): Promise<'created' | 'exists'> {
    const operation = `create key ${checkedKeyName(name)}`;
    try {
      await this.expectOk(operation, 'PUT', kesPaths.keyCreate + name);
      return 'created';
    } catch (err) {
      if (err instanceof KesError && err.reason === 'KeyExists') return 'exists';
      throw err;
    }
  }

  /**
   * Deletes master key `name` from the keystore: data encrypted under it can no longer be decrypted.
   * A key that is already gone counts as deleted (KES on Vault answers 200 for it, others 404).
   */
  async deleteKey(name: string): Promise<void> {
    const operation = `delete key ${checkedKeyName(name)}`;
    try {
      await this.expectOk(operation, 'DELETE', kesPaths.keyDelete + name);
    } catch (err) {
      if (!(err instanceof KesError && err.reason === 'KeyNotFound')) throw err;
    }
  }

  /** Server status, including whether KES reaches its keystore. */
  async status(): Promise<KesStatus> {
    const answer = await this.expectOk('status', 'GET', kesPaths.status);
    const raw = parseJson('status', answer) as Record<string, unknown>;
    const str = (v: unknown): string => (typeof v === 'string' ? v : '');
    const latency = raw.keystore_latency;
    return {
      version: str(raw.version),
      os: str(raw.os),
      arch: str(raw.arch),
      uptimeSeconds: typeof raw.uptime === 'number' ? raw.uptime : 0,
      ...(typeof latency === 'number' ? { keystoreLatencyMs: latency } : {}),
      keystoreUnreachable: raw.keystore_unreachable === true,
    };
  }

  /** Resolves when KES reaches its keystore; otherwise throws KeystoreUnreachable / KeystoreError. */
  async ready(): Promise<void> {
    await this.expectOk('readiness check', 'GET', kesPaths.ready);
  }

  /** Names of the keys in the keystore that start with `prefix` (all keys when empty). */
  async listKeys(prefix = ''): Promise<string[]> {
    // KES lists by literal prefix; "*" alone means every key.
    if (prefix !== '' && !/^[A-Za-z0-9_-]+$/.test(prefix)) {
      throw new Error(`invalid KES key prefix ${JSON.stringify(prefix)}`);
    }
    const answer = await this.expectOk('list keys', 'GET', kesPaths.keyList + (prefix === '' ? '*' : prefix));
    const raw = parseJson('list keys', answer) as { names?: unknown };
    if (raw.names === null || raw.names === undefined) return [];
    if (!Array.isArray(raw.names) || !raw.names.every((n) => typeof n === 'string')) {
      throw new KesError('UnexpectedResponse', 'KES list keys: UnexpectedResponse (names is not a list of strings)',
        answer.status);
    }
    return [...(raw.names as string[])].sort();
  }

  /** A fresh data key, encrypted under master key `name` and bound to `context`. */
  async generateKey(name: string, context?: Uint8Array): Promise<DataKey> {
    const operation = `generate key with ${checkedKeyName(name)}`;
    const body = context ? { context: Buffer.from(context).toString('base64') } : {};
    const raw = parseJson(operation,
      await this.expectOk(operation, 'PUT', kesPaths.keyGenerate + name, body)) as Record<string, unknown>;
    return { plaintext: base64Field(operation, raw, 'plaintext'),
      ciphertext: base64Field(operation, raw, 'ciphertext') };
  }

  /** Decrypts a data key `ciphertext` produced by generateKey with the same `name` and `context`. */
  async decrypt(name: string, ciphertext: Uint8Array, context?: Uint8Array): Promise<Buffer> {
    const operation = `decrypt with ${checkedKeyName(name)}`;
    const body = {
      ciphertext: Buffer.from(ciphertext).toString('base64'),
      ...(context ? { context: Buffer.from(context).toString('base64') } : {}),
    };
    const raw = parseJson(operation, await this.expectOk(operation, 'PUT', kesPaths.keyDecrypt + name, body)) as Record<
      string,
      unknown
    >;
    return base64Field(operation, raw, 'plaintext');
  }

  /** Closes pooled connections. */
  close(): void {
    this.agent.destroy();
  }

  /** Every KES call goes through here, so here it is counted and timed (by route, never by key name). */
  private async expectOk(operation: string, method: string, path: string, body?: object): Promise<Answer> {
    const route = kesRouteLabel(path);
    const started = performance.now();
    let code = 0;
    try {
      const answer = await this.send(operation, method, path, body);
      code = answer.status;
      if (answer.status >= 200 && answer.status < 300) return answer;
      throw kesErrorFromResponse(operation, answer.status, answer.contentType, answer.body);
    } catch (err) {
      kesRequestErrors.inc({ operation: route, reason: err instanceof KesError ? err.reason : 'UnexpectedResponse' });
      throw err;
    } finally {
      kesRequests.inc({ operation: route, code: String(code) });
      kesRequestDuration.observe({ operation: route }, (performance.now() - started) / 1000);
    }
  }

  private send(operation: string, method: string, path: string, body?: object): Promise<Answer> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const url = new URL(path, this.base);
    return new Promise<Answer>((resolve, reject) => {
      let settled = false;
      // The first outcome wins: the deadline's destroy also makes the request report a reset.
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        outcome();
      };
      const fail = (err: Error) => finish(() => reject(err));
      const req = request(
        url,
        {
          method,
          agent: this.agent,
          timeout: this.timeoutMs,
          headers: {
            accept: 'application/json',
            ...(payload
              ? { 'content-type': 'application/json', 'content-length': String(payload.length) }
              : { 'content-length': '0' }),
          },
        },
        (res) => {
          readCappedBody(res, maxResponseBytes, {
            tooLarge: () =>
              fail(
                new KesError('UnexpectedResponse',
                  `KES ${operation}: UnexpectedResponse (answer larger than ${maxResponseBytes} bytes)`,
                  res.statusCode),
              ),
            done: (body) =>
              finish(() => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body })),
          });
          res.on('error', (err) => fail(kesErrorFromNetwork(operation, err)));
        },
      );
      // `timeout` above only fires after that long without a byte; a server that drips bytes needs a total deadline.
      const deadline = setTimeout(() => {
        const err = Object.assign(new Error(`no complete answer within ${this.timeoutMs}ms`), { code: 'ETIMEDOUT' });
        fail(kesErrorFromNetwork(operation, err));
        req.destroy(err);
      }, this.timeoutMs);
      req.on('timeout',
        () => req.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs}ms`), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => fail(kesErrorFromNetwork(operation, err)));
      req.end(payload);
    });
  }
}

function checkedKeyName(name: string): string {
  const problem = kesKeyNameProblem(name);
  if (problem) throw new Error(`invalid KES key name ${JSON.stringify(name)}: ${problem}`);
  return name;
}

function parseJson(operation: string, answer: Answer): unknown {
  try {
    const value: unknown = JSON.parse(answer.body);
    if (typeof value === 'object' && value !== null) return value;
  } catch {
    // fall through to the error below
  }
  throw new KesError('UnexpectedResponse', `KES ${operation}: UnexpectedResponse (the answer is not a JSON object)`,
    answer.status);
}

function base64Field(operation: string, raw: Record<string, unknown>, field: string): Buffer {
  const value = raw[field];
  if (typeof value !== 'string') {
    throw new KesError('UnexpectedResponse', `KES ${operation}: UnexpectedResponse (no ${field} in the answer)`);
  }
  return Buffer.from(value, 'base64');
}
