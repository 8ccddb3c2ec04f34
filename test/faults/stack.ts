// The environment of a fault case: a real control plane (etcd + kube-apiserver) and a real Vault,
// namespaces prepared as a user would (the operator's Vault token with the operator policy of
// docs/vault.md, Vault's CA), Vault-mode KMSDeployments, the operator as a process, and what a
// real cluster has and this one lacks: the garbage collector of owned objects.
import { kmsDeploymentObject } from '../support/kmsdeployment.ts';
import { startControlPlane, type ControlPlane } from '../env/controlplane.ts';
import { makeTempDir, removeTempDir } from '../env/process.ts';
import { startVault, type TestVault } from '../env/vault.ts';
import { KubeClient } from '../../src/runtime/kube/client.ts';
import { ownedKinds, resources, type KubeObject } from '../../src/runtime/kube/resources.ts';
import { ensureNamespace, operatorToken, putSecret } from '../integration/vault/fixture.ts';
import { OperatorProcess, type OperatorOptions } from './operator.ts';

export const TOKEN_SECRET = 'vault-operator-token';
export const CA_SECRET = 'vault-ca';

export interface Stack {
  cp: ControlPlane;
  vault: TestVault;
  /** Admin client (system:masters), field manager kmsstack-test. */
  kube: KubeClient;
  /** Temp dir for logs; removed by stop(). */
  dir: string;
  operators: OperatorProcess[];
  startOperator(options: Omit<OperatorOptions, 'kubeconfigPath' | 'logDir'>): OperatorProcess;
  stop(): Promise<void>;
}

export async function startStack(options: { persistentVault?: boolean; apiServerFlags?: string[] } = {}): Promise<Stack> {
  const [cp, vault] = await Promise.all([
    startControlPlane({ apiServerFlags: options.apiServerFlags ?? [] }),
    startVault({ persistent: options.persistentVault === true }),
  ]);
  const dir = makeTempDir('faults');
  const operators: OperatorProcess[] = [];
  return {
    cp, vault, dir, operators,
    kube: new KubeClient(cp.kubeConfig, 'kmsstack-test'),
    startOperator(operatorOptions) {
      // The operator contacts only listed Vault servers; a test may list others (or none) in env.
      const env = { KMSSTACK_VAULT_ADDRESSES: vault.address, ...operatorOptions.env };
      const operator = OperatorProcess.start({ ...operatorOptions, env, kubeconfigPath: cp.kubeconfigPath, logDir: dir });
      operators.push(operator);
      return operator;
    },
    async stop() {
      for (const operator of operators) await operator.kill();
      if (process.env.KMSSTACK_FAULT_KEEP_LOGS) console.error(`fault logs kept in ${dir}`);
      await Promise.all([vault.stop(), cp.stop({ keepLogs: Boolean(process.env.KMSSTACK_FAULT_KEEP_LOGS) })]);
      if (!process.env.KMSSTACK_FAULT_KEEP_LOGS) removeTempDir(dir);
    },
  };
}

/** A namespace with the operator's Vault token (operator policy only, not root) and Vault's CA. */
export async function prepareNamespace(stack: Stack, namespace: string): Promise<void> {
  await ensureNamespace(stack.kube, namespace);
  await putSecret(stack.kube, namespace, TOKEN_SECRET, { token: await operatorToken(stack.vault) });
  if (stack.vault.caPem) await putSecret(stack.kube, namespace, CA_SECRET, { 'ca.crt': stack.vault.caPem });
}

export interface DeploymentOptions {
  keyDeletionPolicy?: 'Retain' | 'Delete';
  kvVersion?: 'v1' | 'v2';
  tokenTTL?: string;
  /** Short secret-id lifetimes make the operator rotate during a test. */
  secretIDTTL?: string;
  secretIDRenewBefore?: string;
  kesReplicas?: number;
  annotations?: Record<string, string>;
}

/** The KV prefix the fault cases give a deployment (inside the operator policy's kmsstack/ root). */
export function prefixOf(namespace: string, name: string): string {
  return `kmsstack/${namespace}/${name}`;
}

export function kvMountOf(version: 'v1' | 'v2' = 'v1'): string {
  return version === 'v2' ? 'kv2' : 'kv';
}

export function vaultDeployment(stack: Stack, namespace: string, name: string, options: DeploymentOptions = {}): KubeObject {
  return {
    apiVersion: resources.KMSDeployment.apiVersion,
    kind: 'KMSDeployment',
    metadata: { name, namespace, ...(options.annotations ? { annotations: options.annotations } : {}) },
    spec: {
      vault: {
        address: stack.vault.address,
        ...(stack.vault.caPem ? { tls: { caSecretRef: { name: CA_SECRET } } } : {}),
        auth: { token: { secretRef: { name: TOKEN_SECRET } } },
        kv: { mountPath: kvMountOf(options.kvVersion), version: options.kvVersion ?? 'v1', prefix: prefixOf(namespace, name) },
        appRole: {
          tokenTTL: options.tokenTTL ?? '5m',
          ...(options.secretIDTTL ? { secretIDTTL: options.secretIDTTL } : {}),
          ...(options.secretIDRenewBefore ? { secretIDRenewBefore: options.secretIDRenewBefore } : {}),
        },
      },
      kes: { replicas: options.kesReplicas ?? 1, keys: [{ name: 'minio-key-1' }] },
      minio: { keyName: 'minio-key-1' },
      ...(options.keyDeletionPolicy ? { keyDeletionPolicy: options.keyDeletionPolicy } : {}),
    },
  };
}

/** A StaticKey deployment (no Vault, no KES): the only mode in which MinIO's StatefulSet is built here. */
export function staticKeyDeployment(namespace: string, name: string): KubeObject {
  return kmsDeploymentObject(namespace, name, { mode: 'StaticKey', minio: { replicas: 1, keyName: 'dev-key', storage: { size: '1Gi' } } });
}

export async function getDeployment(stack: Stack, namespace: string, name: string): Promise<KubeObject | undefined> {
  return stack.kube.get(resources.KMSDeployment, namespace, name);
}

/** Merge-patches the spec (as a user's kubectl edit would). */
export async function patchSpec(stack: Stack, namespace: string, name: string, spec: Record<string, unknown>): Promise<void> {
  await stack.kube.request('PATCH', `/apis/${resources.KMSDeployment.apiVersion}/namespaces/${namespace}/kmsdeployments/${name}`, {
    body: { spec }, contentType: 'application/merge-patch+json', resource: 'kmsdeployments', verb: 'patch',
  });
}

export async function annotate(stack: Stack, namespace: string, name: string, annotations: Record<string, string>): Promise<void> {
  await stack.kube.request('PATCH', `/apis/${resources.KMSDeployment.apiVersion}/namespaces/${namespace}/kmsdeployments/${name}`, {
    body: { metadata: { annotations } }, contentType: 'application/merge-patch+json', resource: 'kmsdeployments', verb: 'patch',
  });
}

/** Objects of `kind` in `namespace` that the operator manages (its managed-by label). */
export async function managedObjects(stack: Stack, kind: (typeof ownedKinds)[number], namespace: string): Promise<KubeObject[]> {
  const list = await stack.kube.list(resources[kind], namespace, { labelSelector: 'app.kubernetes.io/managed-by=kmsstack-operator' });
  return list.items;
}

/**
 * What kube-controller-manager's garbage collector would do (the test control plane has none):
 * delete managed objects whose controlling KMSDeployment no longer exists (by uid).
 */
export async function collectGarbage(stack: Stack, namespace: string): Promise<number> {
  const owners = new Set((await stack.kube.list(resources.KMSDeployment, namespace)).items.map((o) => o.metadata.uid));
  let deleted = 0;
  for (const kind of ownedKinds) {
    for (const obj of await managedObjects(stack, kind, namespace)) {
      const controller = obj.metadata.ownerReferences?.find((ref) => ref.controller && ref.kind === 'KMSDeployment');
      if (controller && !owners.has(controller.uid)) {
        if (await stack.kube.delete(resources[kind], namespace, obj.metadata.name as string, obj.metadata.uid)) deleted++;
      }
    }
  }
  return deleted;
}
