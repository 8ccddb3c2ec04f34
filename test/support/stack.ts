// The servers an integration suite, the fault suite or a benchmark round runs against, started one way:
// a control plane (etcd + kube-apiserver), a Vault unless the suite needs none, namespaces prepared as a
// user would (the operator's Vault token with the operator policy of docs/vault.md, Vault's CA), and,
// when asked, the operator's Manager in-process. stop() undoes all of it.
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from '../env/controlplane.ts';
import { startVault, type TestVault } from '../env/vault.ts';
import { adminClient, ensureNamespace, putSecret } from './kube.ts';
import { newManager, testConfig, type ManagerOptions } from './operator.ts';
import type { KubeClient } from '../../src/runtime/kube/client.ts';
import type { Manager } from '../../src/runtime/manager.ts';
import { renderOperatorPolicy, type OperatorPolicyInput } from '../../src/vault/operator-policy.ts';

/** The Secret holding the operator's Vault token in a prepared namespace (key `token`). */
export const TOKEN_SECRET = 'vault-operator-token';
/** The Secret holding a TLS Vault's CA in a prepared namespace (key `ca.crt`). */
export const CA_SECRET = 'vault-ca';

/** The input of the operator policy of docs/vault.md: KV v1 at kv, AppRole at approle, mounts created, instance default; `overrides` change it. */
export function operatorPolicyInput(overrides: Partial<OperatorPolicyInput> = {}): OperatorPolicyInput {
  return { kvMounts: [{ mountPath: 'kv', version: 'v1' }], appRoleMountPath: 'approle', allowMountCreation: true, instance: 'default', legacyNames: false, ...overrides };
}

/** The operator policy for the KV mounts the tests use (kv v1, kv2 and kvother v2), version 0.1 names included, and KES's Kubernetes auth mounts. */
export const TEST_OPERATOR_POLICY = renderOperatorPolicy(operatorPolicyInput({
  kvMounts: [
    { mountPath: 'kv', version: 'v1' },
    { mountPath: 'kv2', version: 'v2' },
    { mountPath: 'kvother', version: 'v2' },
  ],
  legacyNames: true,
  kesKubernetesMounts: ['kubernetes', 'kubernetes-kes'],
}));

export interface StackOptions {
  /** false: no Vault; persistent: file storage and TLS, as the guide runs it (survives a restart). */
  vault?: false | { persistent?: boolean };
  /** The control plane's options (extra kube-apiserver flags, whether to install crds/). */
  controlPlane?: ControlPlaneOptions;
  /** The suite's namespace, prepared before start returns (default "default", not prepared). */
  namespace?: string;
  /** The policy of the operator's Vault token; default TEST_OPERATOR_POLICY. */
  operatorPolicy?: string;
  /** Lifetime of the operator's Vault token; default 2h. */
  tokenTTL?: string;
  /** Field manager of the admin client. */
  fieldManager?: string;
  /** Starts the operator in-process with these options (or those made for the stack's Vault); it may contact that Vault. */
  manager?: ManagerOptions | ((vault: TestVault | undefined) => ManagerOptions);
}

export interface Stack {
  plane: ControlPlane;
  /** Admin client (system:masters). */
  kube: KubeClient;
  /** The suite's namespace (StackOptions.namespace). */
  namespace: string;
  /** The in-process operator, when StackOptions.manager asked for one. */
  manager: Manager | undefined;
  /** Creates `namespace` (if needed) with the operator's Vault token Secret and, for a TLS Vault, its CA Secret. */
  prepareNamespace(namespace: string): Promise<void>;
  /** Stops the operator and the servers; keepLogs keeps the control plane's logs. */
  stop(options?: { keepLogs?: boolean }): Promise<void>;
}

/** A stack with a Vault. */
export interface VaultStack extends Stack {
  vault: TestVault;
  /** A non-root Vault token holding only the operator policy, as a user gives the operator. */
  operatorVaultToken: string;
}

/** A Vault token holding only `policy` (written as policy kmsstack-operator). */
export async function operatorToken(vault: TestVault, policy = TEST_OPERATOR_POLICY, ttl = '2h'): Promise<string> {
  await vault.writePolicy('kmsstack-operator', policy);
  const res = await vault.request('POST', 'auth/token/create', { policies: ['kmsstack-operator'], ttl, no_default_policy: true });
  const token = (res.body?.['auth'] as { client_token?: string } | undefined)?.client_token;
  if (!token) throw new Error(`Vault did not create the operator token (status ${res.status})`);
  return token;
}

/** What startStack gives for `O`: a Vault unless `vault: false`, the manager when one was asked for. */
export type StartedStack<O extends StackOptions> = (O extends { vault: false } ? Stack : VaultStack) & (O extends { manager: unknown } ? { manager: Manager } : unknown);

/** Starts the servers (in parallel), prepares the namespace, starts the in-process operator if asked. */
export async function startStack<O extends StackOptions>(options: O = {} as O): Promise<StartedStack<O>> {
  const [plane, vault] = await Promise.all([
    startControlPlane(options.controlPlane),
    options.vault === false ? undefined : startVault({ persistent: options.vault?.persistent === true }),
  ]);
  let manager: Manager | undefined;
  const stop = async (stopOptions: { keepLogs?: boolean } = {}) => {
    await manager?.stop();
    await Promise.all([plane.stop(stopOptions), vault?.stop()]);
  };
  try {
    const kube = adminClient(plane, options.fieldManager);
    const operatorVaultToken = vault ? await operatorToken(vault, options.operatorPolicy, options.tokenTTL) : '';
    const prepareNamespace = async (namespace: string) => {
      await ensureNamespace(kube, namespace);
      if (!vault) return;
      await putSecret(kube, namespace, TOKEN_SECRET, { token: operatorVaultToken });
      if (vault.caPem) await putSecret(kube, namespace, CA_SECRET, { 'ca.crt': vault.caPem });
    };
    if (options.namespace) await prepareNamespace(options.namespace);
    if (options.manager) {
      const managerOptions = typeof options.manager === 'function' ? options.manager(vault) : options.manager;
      // Token auth, too, reaches only the Vault servers the operator lists.
      const config = managerOptions.config ?? testConfig({ vaultAddresses: vault ? [vault.address] : [] });
      manager = newManager(plane, { ...managerOptions, config });
      await manager.start();
    }
    const stack: Stack = { plane, kube, namespace: options.namespace ?? 'default', manager, prepareNamespace, stop };
    return (vault ? { ...stack, vault, operatorVaultToken } : stack) as StartedStack<O>;
  } catch (err) {
    await stop();
    throw err;
  }
}
