// Shared set-up of the Vault integration tests: a real Vault, a real kube-apiserver, the operator's
// Vault dependencies wired to them, and KES's Vault calls made with the AppRole credentials.
import { vaultCleanup, vaultRuntime, vaultStep } from '../../../src/controllers/kmsdeployment/steps/vault.ts';
import { FIELD_MANAGER, type KubeClient } from '../../../src/runtime/kube/client.ts';
import { resources, type KubeObject } from '../../../src/runtime/kube/resources.ts';
import { VaultClient } from '../../../src/vault/client.ts';
import { VaultClients } from '../../../src/vault/clients.ts';
import type { VaultDeps } from '../../../src/vault/connect.ts';
import { VaultRequestError } from '../../../src/vault/errors.ts';
import { APPROLE_SECRET_KEYS, appRoleSecretName } from '../../../src/vault/names.ts';
import { kubeClientPort } from '../../../src/vault/ports.ts';
import { VaultSessions } from '../../../src/vault/session.ts';
import { resolveVaultSettings, type KvVersion, type VaultSettings, type VaultSpec } from '../../../src/vault/settings.ts';
import type { TestVault } from '../../env/vault.ts';
import type { ManagerOptions } from '../../support/operator.ts';
import { startStack, type VaultStack } from '../../support/stack.ts';

export const FAST_RETRY = { attempts: 2, baseDelayMs: 20, maxDelayMs: 50 };

export function operatorDeps(kube: KubeClient, options: { serviceAccountTokenPath?: string } = {}): VaultDeps {
  return {
    clients: new VaultClients({ timeoutMs: 3000, retry: FAST_RETRY }),
    sessions: new VaultSessions({ serviceAccountTokenPath: options.serviceAccountTokenPath }),
    kube: kubeClientPort(kube),
  };
}

export function settingsFor(vault: TestVault, namespace: string, name: string, overrides: Partial<VaultSpec> & { kvVersion?: KvVersion; kvMount?: string } = {}): VaultSettings {
  const { kvVersion, kvMount, ...rest } = overrides;
  const spec: VaultSpec = {
    address: vault.address,
    auth: { token: { secretRef: { name: 'vault-operator-token', key: 'token' } } },
    kv: { mountPath: kvMount ?? (kvVersion === 'v2' ? 'kv2' : 'kv'), version: kvVersion ?? 'v1', prefix: `kmsstack/${namespace}/${name}`, create: true },
    ...rest,
  };
  return resolveVaultSettings(spec, { namespace, name });
}

export function ownerOf(namespace: string, name: string) {
  return {
    labels: { 'app.kubernetes.io/name': 'kes', 'app.kubernetes.io/instance': name, 'app.kubernetes.io/managed-by': 'kmsstack-operator' },
    ownerReferences: [] as unknown[],
    namespace,
  };
}

export async function readAppRoleCredentials(kube: KubeClient, namespace: string, name: string): Promise<{ roleId: string; secretId: string; secret: KubeObject }> {
  const secret = await kube.get<KubeObject & { data?: Record<string, string> }>(resources.Secret, namespace, appRoleSecretName(name));
  if (!secret?.data) throw new Error(`AppRole Secret of ${namespace}/${name} is missing`);
  const decode = (key: string) => Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');
  return { roleId: decode(APPROLE_SECRET_KEYS.roleId), secretId: decode(APPROLE_SECRET_KEYS.secretId), secret };
}

/** KES's calls on its key store (paths per KV version, as internal/keystore/vault makes them). */
export class KesLikeClient {
  constructor(
    private readonly client: VaultClient,
    readonly token: string,
    private readonly mount: string,
    private readonly version: KvVersion,
  ) {}

  /** The same login, used on another mount. */
  on(mount: string, version: KvVersion): KesLikeClient {
    return new KesLikeClient(this.client, this.token, mount, version);
  }

  static async login(vault: TestVault, roleId: string, secretId: string, mount: string, version: KvVersion): Promise<KesLikeClient> {
    const client = new VaultClient({ address: vault.address, caPem: vault.caPem, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    const res = await client.call({ method: 'POST', path: 'auth/approle/login', json: { role_id: roleId, secret_id: secretId }, operation: 'KES login', login: true, secrets: [secretId] });
    const token = (res?.['auth'] as { client_token?: string } | undefined)?.client_token;
    if (!token) throw new Error('AppRole login gave no token');
    return new KesLikeClient(client, token, mount, version);
  }

  private data(path: string) {
    return this.version === 'v2' ? `${this.mount}/data/${path}` : `${this.mount}/${path}`;
  }

  private meta(path: string) {
    return this.version === 'v2' ? `${this.mount}/metadata/${path}` : `${this.mount}/${path}`;
  }

  async create(path: string, value: string): Promise<void> {
    const name = path.split('/').pop() as string;
    const json = this.version === 'v2' ? { options: { cas: 0 }, data: { [name]: value } } : { [name]: value };
    await this.client.call({ method: 'PUT', path: this.data(path), token: this.token, json, operation: `create ${path}` });
  }

  async read(path: string): Promise<string | undefined> {
    const name = path.split('/').pop() as string;
    const res = await this.client.callOptional({ method: 'GET', path: this.version === 'v2' ? `${this.data(path)}?version=1` : this.data(path), token: this.token, operation: `read ${path}` });
    const data = res?.['data'] as Record<string, unknown> | undefined;
    const entry = this.version === 'v2' ? (data?.['data'] as Record<string, unknown> | undefined) : data;
    return entry?.[name] as string | undefined;
  }

  async delete(path: string): Promise<void> {
    await this.client.call({ method: 'DELETE', path: this.meta(path), token: this.token, operation: `delete ${path}` });
  }

  async list(prefix: string): Promise<string[]> {
    const res = await this.client.callOptional({ method: 'GET', path: `${this.meta(prefix)}?list=true`, token: this.token, operation: `list ${prefix}` });
    return ((res?.['data'] as { keys?: string[] } | undefined)?.keys ?? []).map(String);
  }

  async renewSelf(): Promise<void> {
    await this.client.call({ method: 'POST', path: 'auth/token/renew-self', token: this.token, json: {}, operation: 'renew' });
  }

  /** Runs `call` and returns the failure reason ('ok' when it succeeded). */
  static async outcome(call: () => Promise<unknown>): Promise<string> {
    try {
      await call();
      return 'ok';
    } catch (err) {
      if (err instanceof VaultRequestError) return err.reason;
      throw err;
    }
  }
}

/** The stack of the Vault suites: Vault (persistent on request) and a control plane without CRDs, `namespace` prepared; deps act as the operator. */
export async function startVaultSuiteStack(namespace: string, options: { persistent?: boolean } = {}): Promise<VaultStack & { deps: VaultDeps }> {
  const stack = await startStack({ namespace, vault: { persistent: options.persistent }, controlPlane: { installCRDs: false }, fieldManager: FIELD_MANAGER });
  return { ...stack, deps: operatorDeps(stack.kube) };
}

/** An in-process operator that runs only the Vault stage of the data path (step and cleanup), allowed to contact `vault`. */
export function vaultStageOnly(vault: TestVault | undefined): ManagerOptions {
  const runtime = vaultRuntime({ tenancy: { addresses: vault ? [vault.address] : [] } });
  return { steps: [vaultStep(runtime)], cleanups: [vaultCleanup(runtime)] };
}
