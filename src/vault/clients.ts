// One VaultClient per distinct Vault endpoint (address, trusted CA, TLS name, namespace), reused
// across reconciles so TLS agents and connections are not rebuilt every time.
import { createHash } from 'node:crypto';
import { VaultClient, type VaultClientOptions } from './client.ts';

export class VaultClients {
  private readonly clients = new Map<string, VaultClient>();

  constructor(private readonly defaults: Pick<VaultClientOptions, 'timeoutMs' | 'retry' | 'retryHooks'> = {}) {}

  get(options: Omit<VaultClientOptions, 'timeoutMs' | 'retry' | 'retryHooks'>): VaultClient {
    const key = createHash('sha256')
      .update(JSON.stringify([options.address, options.caPem ?? '', options.tlsServerName ?? '', options.namespace ?? '']))
      .digest('hex');
    let client = this.clients.get(key);
    if (!client) {
      client = new VaultClient({ ...this.defaults, ...options });
      this.clients.set(key, client);
    }
    return client;
  }
}
