// Getting a client and a valid operator token for one KMSDeployment: reads the CA and token
// Secrets it names, picks the pooled client, and asks the session cache for a token.
import { decodeSecretValue } from '../runtime/kube/secret-data.ts';
import type { VaultClient } from './client.ts';
import type { VaultClients } from './clients.ts';
import type { VaultKubePort } from './ports.ts';
import type { LoginSource, VaultSessions } from './session.ts';
import type { VaultSettings } from './settings.ts';

export interface VaultDeps {
  clients: VaultClients;
  sessions: VaultSessions;
  kube: VaultKubePort;
}

/** A Secret (or key) the spec names is missing: the user must create it. */
export class MissingSecretError extends Error {
  override readonly name = 'MissingSecretError';
}

async function secretValue(kube: VaultKubePort, namespace: string, name: string, key: string,
  field: string): Promise<string>
{
  const secret = await kube.getSecret(namespace, name);
  if (!secret) throw new MissingSecretError(`${field}: Secret ${namespace}/${name} does not exist`);
  const encoded = secret.data?.[key];
  if (!encoded) throw new MissingSecretError(`${field}: Secret ${namespace}/${name} has no key "${key}"`);
  const value = decodeSecretValue(encoded).trim();
  if (!value) throw new MissingSecretError(`${field}: key "${key}" of Secret ${namespace}/${name} is empty`);
  return value;
}

export async function connectVault(deps: VaultDeps, settings: VaultSettings,
  now: Date): Promise<{ client: VaultClient; token: string }>
{
  const { namespace } = settings.deployment;
  // A CA the administrator pinned for this address wins over the tenant's own (spec.vault.tls).
  const caPem = deps.clients.pinnedCA(settings.address) ?? (settings.ca
    ? await secretValue(deps.kube, namespace, settings.ca.secretName, settings.ca.secretKey,
      'spec.vault.tls.caSecretRef')
    : undefined);
  const client = deps.clients.get({ address: settings.address, caPem, tlsServerName: settings.tlsServerName,
    namespace: settings.vaultNamespace });
  const source: LoginSource = settings.auth.method === 'kubernetes'
    ? { method: 'kubernetes', role: settings.auth.role, mountPath: settings.auth.mountPath }
    : { method: 'token',
      token: await secretValue(deps.kube, namespace, settings.auth.secretName, settings.auth.secretKey,
        'spec.vault.auth.token.secretRef') };
  const token = await deps.sessions.token(client, settings, source, now);
  return { client, token };
}
