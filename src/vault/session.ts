// The operator's own Vault token per KMSDeployment: logged in once, reused until it nears the end
// of its TTL, then renewed (or obtained again when renewal is not possible). No login per reconcile.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { VaultClient } from './client.ts';
import { VaultRequestError } from './errors.ts';
import { loginKubernetes, lookupSelf, renewSelf } from './operations.ts';
import type { VaultSettings } from './settings.ts';

export const DEFAULT_SERVICE_ACCOUNT_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface CachedToken {
  token: string;
  /** The time the token was obtained or last renewed. */
  refreshedAt: Date;
  /** undefined: the token never expires. */
  expiresAt: Date | undefined;
  renewable: boolean;
  /** Identifies the login configuration (and, for a token Secret, the token) it came from. */
  source: string;
}

export type TokenAction = 'use' | 'renew' | 'login';

/** When a token with `seconds` to live expires; undefined for 0 (a token that never expires). */
function expiryAfter(now: Date, seconds: number): Date | undefined {
  return seconds > 0 ? new Date(now.getTime() + seconds * 1000) : undefined;
}

/** The share of a token's lifetime left below which it is refreshed (or less than minimumMarginMs). */
const REFRESH_SHARE = 1 / 3;
const MINIMUM_MARGIN_MS = 10_000;

export function planTokenAction(cached: CachedToken | undefined, source: string, now: Date): TokenAction {
  if (!cached || cached.source !== source) return 'login';
  if (!cached.expiresAt) return 'use';
  const left = cached.expiresAt.getTime() - now.getTime();
  if (left <= MINIMUM_MARGIN_MS) return 'login';
  const lifetime = cached.expiresAt.getTime() - cached.refreshedAt.getTime();
  if (left > Math.max(lifetime * REFRESH_SHARE, MINIMUM_MARGIN_MS * 2)) return 'use';
  return cached.renewable ? 'renew' : 'login';
}

/** Where the operator's login comes from: the ServiceAccount token file, or a token a Secret holds. */
export type LoginSource = { method: 'kubernetes'; role: string; mountPath: string } | { method: 'token';
  token: string };

function sourceKey(settings: VaultSettings, source: LoginSource): string {
  const hash = createHash('sha256');
  hash.update(`${settings.address}\n${settings.vaultNamespace ?? ''}\n${source.method}\n`);
  if (source.method === 'kubernetes') hash.update(`${source.mountPath}\n${source.role}`);
  else hash.update(source.token);
  return hash.digest('hex');
}

export interface VaultSessionsOptions {
  /** The operator's ServiceAccount token file (projected tokens rotate: it is read at every login). */
  serviceAccountTokenPath?: string;
}

export class VaultSessions {
  private readonly cache = new Map<string, CachedToken>();
  private readonly tokenPath: string;
  /** Logins and renewals performed, for metrics and tests. */
  readonly counts = { login: 0, renew: 0 };

  constructor(options: VaultSessionsOptions = {}) {
    this.tokenPath = options.serviceAccountTokenPath ?? DEFAULT_SERVICE_ACCOUNT_TOKEN_PATH;
  }

  /** A token valid for a while yet, for the KMSDeployment `settings` belong to. */
  async token(client: VaultClient, settings: VaultSettings, source: LoginSource, now: Date): Promise<string> {
    const key = `${settings.deployment.namespace}/${settings.deployment.name}`;
    const wanted = sourceKey(settings, source);
    const cached = this.cache.get(key);
    const action = planTokenAction(cached, wanted, now);
    if (action === 'use' && cached) return cached.token;
    if (action === 'renew' && cached) {
      try {
        const renewed = await renewSelf(client, cached.token);
        this.counts.renew++;
        const expiresAt = expiryAfter(now, renewed.leaseSeconds);
        // A renewal capped by the token's max TTL gains nothing: log in again next time.
        const gained = expiresAt && cached.expiresAt ? expiresAt.getTime() > cached.expiresAt.getTime() + 1000 : true;
        this.cache.set(key, { ...cached, refreshedAt: now, expiresAt, renewable: renewed.renewable && gained });
        return cached.token;
      } catch (err) {
        if (!(err instanceof VaultRequestError) || err.retryable || err.reason === 'Sealed') throw err;
        // Refused renewal (revoked, past max TTL): fall through to a fresh login.
      }
    }
    const fresh = await this.login(client, source, now, wanted);
    this.cache.set(key, fresh);
    return fresh.token;
  }

  /** Forgets the token of a deployment (after Vault refused it, or when the deployment is gone). */
  forget(namespace: string, name: string): void {
    this.cache.delete(`${namespace}/${name}`);
  }

  private async login(client: VaultClient, source: LoginSource, now: Date, key: string): Promise<CachedToken> {
    this.counts.login++;
    if (source.method === 'token') {
      // Nothing to log in to: learn the token's TTL so it is renewed before it runs out.
      const info = await lookupSelf(client, source.token);
      return {
        token: source.token,
        refreshedAt: now,
        expiresAt: expiryAfter(now, info.ttlSeconds),
        renewable: info.renewable,
        source: key,
      };
    }
    let jwt: string;
    try {
      jwt = (await readFile(this.tokenPath, 'utf8')).trim();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new VaultRequestError('AuthFailed', 'read the operator ServiceAccount token',
        `cannot read the operator's ServiceAccount token at ${this.tokenPath} (${code})`);
    }
    const result = await loginKubernetes(client, source.mountPath, source.role, jwt);
    return {
      token: result.token,
      refreshedAt: now,
      expiresAt: expiryAfter(now, result.leaseSeconds),
      renewable: result.renewable,
      source: key,
    };
  }
}
