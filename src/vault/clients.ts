// One VaultClient per distinct Vault endpoint (address, trusted CA, TLS name, namespace), reused
// across reconciles so TLS agents and connections are not rebuilt every time. A CA the administrator
// pinned for an address (--vault-ca-files) replaces whatever CA the caller brings.
import { createHash } from 'node:crypto';
import { VaultClient, type VaultClientOptions } from './client.ts';

export class VaultClients {
  private readonly clients = new Map<string, VaultClient>();

  constructor(
    private readonly defaults: Pick<VaultClientOptions, 'timeoutMs' | 'retry' | 'retryHooks'> = {},
    /** Origin -> PEM bundle pinned by the administrator. */
    private readonly pinnedCAs: ReadonlyMap<string, string> = new Map(),
  ) {}

  /** The CA the administrator pinned for `address`, if any: the tenant's CA is then not even read. */
  pinnedCA(address: string): string | undefined {
    return this.pinnedCAs.get(address);
  }

  get(requested: Omit<VaultClientOptions, 'timeoutMs' | 'retry' | 'retryHooks'>): VaultClient {
    const pinned = this.pinnedCA(requested.address);
    const options = pinned ? { ...requested, caPem: pinned } : requested;
    const key = createHash('sha256')
      .update(
        JSON.stringify([options.address, options.caPem ?? '', options.tlsServerName ?? '', options.namespace ?? '']),
      )
      .digest('hex');
    let client = this.clients.get(key);
    if (!client) {
      client = new VaultClient({ ...this.defaults, ...options });
      this.clients.set(key, client);
    }
    return client;
  }
}
