// The environment of a fault case: a real control plane (etcd + kube-apiserver) and a real Vault,
// namespaces prepared as a user would (the operator's Vault token with the operator policy of
// docs/vault.md, Vault's CA), Vault-mode KMSDeployments, the operator as a process, and what a
// real cluster has and this one lacks: the garbage collector of owned objects.
import { inNamespace, kmsDeployment, withAnnotations, withKes, withSpec, withVault } from '../support/kmsdeployment.ts';
import { startStack, type VaultStack } from '../support/stack.ts';
import { makeTempDir, removeTempDir } from '../env/process.ts';
import { ownedKinds, resources, type KubeObject } from '../../src/runtime/kube/resources.ts';
import { OperatorProcess, type OperatorOptions } from './operator.ts';

/** The shared stack (control plane, Vault, prepareNamespace) plus operators run as processes. */
export interface FaultStack extends VaultStack {
  /** Temp dir for logs; removed by stop(). */
  dir: string;
  operators: OperatorProcess[];
  startOperator(options: Omit<OperatorOptions, 'kubeconfigPath' | 'logDir'>): OperatorProcess;
  /** startOperator, then waits until the operator reconciles (leads, caches synced). */
  startReconcilingOperator(options: Omit<OperatorOptions, 'kubeconfigPath' | 'logDir'>): Promise<OperatorProcess>;
}

/** Starts the shared stack; the operator runs as a process (startOperator), contacting only the stack's Vault unless env says otherwise. */
export async function startFaultStack(options: { persistentVault?: boolean; apiServerFlags?: string[]; namespace?: string } = {}): Promise<FaultStack> {
  const keepLogs = Boolean(process.env.KMSSTACK_FAULT_KEEP_LOGS);
  const servers = await startStack({
    vault: { persistent: options.persistentVault === true },
    controlPlane: { apiServerFlags: options.apiServerFlags ?? [] },
    ...(options.namespace ? { namespace: options.namespace } : {}),
  });
  const dir = makeTempDir('faults');
  const operators: OperatorProcess[] = [];
  const startOperator = (operatorOptions: Omit<OperatorOptions, 'kubeconfigPath' | 'logDir'>) => {
    // The operator contacts only listed Vault servers; a test may list others (or none) in env.
    const env = { KMSSTACK_VAULT_ADDRESSES: servers.vault.address, ...operatorOptions.env };
    const operator = OperatorProcess.start({ ...operatorOptions, env, kubeconfigPath: servers.plane.kubeconfigPath, logDir: dir });
    operators.push(operator);
    return operator;
  };
  return {
    ...servers, dir, operators, startOperator,
    async startReconcilingOperator(operatorOptions) {
      const operator = startOperator(operatorOptions);
      await operator.waitUntilReconciling();
      return operator;
    },
    async stop() {
      for (const operator of operators) await operator.kill();
      if (keepLogs) console.error(`fault logs kept in ${dir}`);
      await servers.stop({ keepLogs });
      if (!keepLogs) removeTempDir(dir);
    },
  };
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

/** A Vault-mode deployment as the fault cases make them (one KES replica unless asked). */
export function vaultDeployment(stack: FaultStack, namespace: string, name: string, options: DeploymentOptions = {}): KubeObject {
  const appRole = {
    tokenTTL: options.tokenTTL ?? '5m',
    ...(options.secretIDTTL ? { secretIDTTL: options.secretIDTTL } : {}),
    ...(options.secretIDRenewBefore ? { secretIDRenewBefore: options.secretIDRenewBefore } : {}),
  };
  return kmsDeployment(
    name,
    inNamespace(namespace),
    ...(options.annotations ? [withAnnotations(options.annotations)] : []),
    withVault(stack.vault, { kvVersion: options.kvVersion, appRole }),
    withKes({ replicas: options.kesReplicas ?? 1 }),
    withSpec(options.keyDeletionPolicy ? { keyDeletionPolicy: options.keyDeletionPolicy } : {}),
  );
}

export async function getDeployment(stack: FaultStack, namespace: string, name: string): Promise<KubeObject | undefined> {
  return stack.kube.get(resources.KMSDeployment, namespace, name);
}

/** Merge-patches a KMSDeployment (as a user's kubectl edit would). */
async function mergePatch(stack: FaultStack, namespace: string, name: string, body: Record<string, unknown>): Promise<void> {
  await stack.kube.request('PATCH', `/apis/${resources.KMSDeployment.apiVersion}/namespaces/${namespace}/kmsdeployments/${name}`, {
    body, contentType: 'application/merge-patch+json', resource: 'kmsdeployments', verb: 'patch',
  });
}

/** Merge-patches the spec. */
export async function patchSpec(stack: FaultStack, namespace: string, name: string, spec: Record<string, unknown>): Promise<void> {
  await mergePatch(stack, namespace, name, { spec });
}

export async function annotate(stack: FaultStack, namespace: string, name: string, annotations: Record<string, string>): Promise<void> {
  await mergePatch(stack, namespace, name, { metadata: { annotations } });
}

/** Objects of `kind` in `namespace` that the operator manages (its managed-by label). */
export async function managedObjects(stack: FaultStack, kind: (typeof ownedKinds)[number], namespace: string): Promise<KubeObject[]> {
  const list = await stack.kube.list(resources[kind], namespace, { labelSelector: 'app.kubernetes.io/managed-by=kmsstack-operator' });
  return list.items;
}

/**
 * What kube-controller-manager's garbage collector would do (the test control plane has none):
 * delete managed objects whose controlling KMSDeployment no longer exists (by uid).
 */
export async function collectGarbage(stack: FaultStack, namespace: string): Promise<number> {
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
