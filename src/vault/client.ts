// The operator's one way to talk to Vault/OpenBao: node-vault's request(), with TLS from the
// deployment's CA, the X-Vault-Namespace header, a deadline and size cap per attempt, retries of transient failures and
// typed errors. Every call names the token it runs with; the node-vault instance never holds one.
// Requests go through ./transport.ts, which never follows a redirect (a 3xx is RedirectRefused).
//
// node-vault's generated commands are not used: their login commands store the returned token
// on the shared instance (it would leak into other deployments' calls), their schemas drop fields
// such as token_policies, and policies go through the legacy sys/policy path.
import type nodeVault from 'node-vault';
import { vaultRequestErrors } from '../runtime/metrics.ts';
import { classifyVaultFailure } from './errors.ts';
import { vaultOperationLabel } from './request-labels.ts';
import { DEFAULT_RETRY, type RetryHooks, type RetryPolicy, withRetry } from './retry.ts';
import { boundedTransport, DEFAULT_MAX_RESPONSE_BYTES } from './transport.ts';

export interface VaultClientOptions {
  /** https://host:port (no path). */
  address: string;
  /** PEM bundle to trust instead of the system roots (spec.vault.tls). */
  caPem?: string;
  /** Host name to verify in Vault's certificate when it differs from the address's host. */
  tlsServerName?: string;
  /** Vault Enterprise / OpenBao namespace. */
  namespace?: string;
  /** Per-attempt deadline, connect to last byte (default 10 s). */
  timeoutMs?: number;
  /** Larger answers fail the attempt (default 4 MiB). */
  maxResponseBytes?: number;
  retry?: RetryPolicy;
  retryHooks?: RetryHooks;
}

export type VaultMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface VaultCall {
  method: VaultMethod;
  /** Path below /v1, without a leading slash; may carry a query string. */
  path: string;
  /** What is attempted, for error messages (no secrets). */
  operation: string;
  token?: string;
  json?: Record<string, unknown>;
  /** Every 4xx means refused credentials. */
  login?: boolean;
  /** Secret values in the request that must never reach an error message. */
  secrets?: readonly string[];
  /** Root-only paths (sys/health) must not carry the namespace header. */
  withoutNamespace?: boolean;
}

/** The JSON body Vault answered with (204 gives undefined). */
export type VaultBody = Record<string, unknown> | undefined;

export class VaultClient {
  readonly address: string;
  /** node-vault and its dependencies (axios...) are loaded by the first call, not by an idle operator. */
  private vault: Promise<nodeVault.client> | undefined;
  private readonly transport: ReturnType<typeof boundedTransport>;
  private readonly namespace: string | undefined;
  private readonly retry: RetryPolicy;
  private readonly retryHooks: RetryHooks;

  constructor(options: VaultClientOptions) {
    this.address = options.address.replace(/\/+$/, '');
    this.namespace = options.namespace || undefined;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.retryHooks = options.retryHooks ?? {};
    // Our transport: TLS always verified against caPem (or the system roots), a total deadline and a size cap.
    this.transport = boundedTransport(
      { caPem: options.caPem, servername: options.tlsServerName },
      { deadlineMs: options.timeoutMs ?? 10_000,
        maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES },
    );
  }

  private nodeVault(): Promise<nodeVault.client> {
    this.vault ??= import('node-vault').then(({ default: create }) => {
      const vault = create({
        endpoint: this.address,
        apiVersion: 'v1',
        // node-vault's debug output prints request bodies (secret-ids, JWTs): keep it silent.
        debug: () => undefined,
        'request-promise': this.transport,
      });
      // node-vault falls back to VAULT_TOKEN/VAULT_NAMESPACE/VAULT_PREFIX from the environment.
      vault.token = '';
      Object.assign(vault, { namespace: '', pathPrefix: '' });
      return vault;
    });
    return this.vault;
  }

  /** One Vault call with retries; resolves to the JSON body, rejects with VaultRequestError. */
  async call(call: VaultCall): Promise<VaultBody> {
    const headers: Record<string, string> = {};
    if (call.token) headers['X-Vault-Token'] = call.token;
    if (this.namespace && !call.withoutNamespace) headers['X-Vault-Namespace'] = this.namespace;
    const secrets = [...(call.secrets ?? []), ...(call.token ? [call.token] : [])];
    const attempt = async (): Promise<VaultBody> => {
      try {
        const request: nodeVault.RequestOption = { path: `/${call.path}`, method: call.method,
          headers: { ...headers } };
        if (call.json) request['json'] = call.json;
        const body: unknown = await (await this.nodeVault()).request(request);
        return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;
      } catch (err) {
        const failure = classifyVaultFailure(err, { operation: call.operation, login: call.login, secrets });
        vaultRequestErrors.inc({ operation: vaultOperationLabel(call.method, `/${call.path}`),
          reason: failure.reason });
        throw failure;
      }
    };
    return withRetry(attempt, this.retry, this.retryHooks);
  }

  /** call() for what may not exist: a 404 (or Vault's "no mount"/"no entry" 400) gives undefined. */
  async callOptional(call: VaultCall): Promise<VaultBody | undefined> {
    try {
      return await this.call(call);
    } catch (err) {
      if ((err as { reason?: string }).reason === 'NotFound') return undefined;
      throw err;
    }
  }
}

/** `data` of a Vault response, or an empty object. */
export function dataOf(body: VaultBody): Record<string, unknown> {
  const data = body?.['data'];
  return typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
}

/** `auth` of a login/renew response. */
export function authOf(body: VaultBody): Record<string, unknown> {
  const auth = body?.['auth'];
  return typeof auth === 'object' && auth !== null ? (auth as Record<string, unknown>) : {};
}
