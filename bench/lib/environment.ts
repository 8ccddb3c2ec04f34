// The servers one benchmark round runs against: a real etcd + kube-apiserver (with a write-only
// audit log to attribute Kubernetes writes to the operator) and a real Vault (with its audit
// device, to count Vault writes). The operator gets its own ServiceAccount so its writes can be
// told from the benchmark's, and a Vault token with only the documented operator policy.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlPlane } from '../../test/env/controlplane.ts';
import { makeTempDir, removeTempDir } from '../../test/env/process.ts';
import type { TestVault } from '../../test/env/vault.ts';
import { OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT } from '../../test/support/operator.ts';
import { operatorPolicyInput, startStack } from '../../test/support/stack.ts';
import { KubeClient } from '../../src/runtime/kube/client.ts';
import type { KubeObject } from '../../src/runtime/kube/resources.ts';
import { renderOperatorPolicy } from '../../src/vault/operator-policy.ts';
import { type JsonLinesTail, KubeAuditLog, WRITE_AUDIT_POLICY } from './kube-audit.ts';
import { vaultAuditLog, type VaultRequest } from './vault-audit.ts';
import { childrenByName } from './procstat.ts';

/** The operator's user name in the audit log. */
export const OPERATOR_USER = `system:serviceaccount:${OPERATOR_NAMESPACE}:${OPERATOR_SERVICE_ACCOUNT}`;

export interface BenchEnvironment {
  plane: ControlPlane;
  vault: TestVault;
  /** Admin client (system:masters): the benchmark's own reads and writes. */
  admin: KubeClient;
  /** The operator's identity, for the operator process and the floor alike. */
  operatorKubeconfigPath: string;
  operatorClient: KubeClient;
  /** The Vault token the KMSDeployments name (operator policy only). */
  operatorVaultToken: string;
  kubeAudit: KubeAuditLog;
  vaultAudit: JsonLinesTail<VaultRequest>;
  /** "kube-apiserver v1.36.3, etcd 3.6.16, Vault 1.13.0". */
  versions: string;
  /** PIDs of etcd, kube-apiserver and vault. */
  serverPids(): Map<string, number>;
  /** A namespace holding the token Secret the KMSDeployments name. */
  prepareNamespace(namespace: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startEnvironment(): Promise<BenchEnvironment> {
  const dir = makeTempDir('bench');
  const policyPath = join(dir, 'audit-policy.yaml');
  const auditLogPath = join(dir, 'kube-audit.log');
  writeFileSync(policyPath, WRITE_AUDIT_POLICY);
  const servers = await startStack({
    controlPlane: {
      apiServerFlags: [
        `--audit-policy-file=${policyPath}`,
        `--audit-log-path=${auditLogPath}`,
        '--audit-log-maxsize=0',
        // Every KMSDeployment gets a KES Service with a cluster IP, the floor's too: the test env's /24 holds ~250.
        '--service-cluster-ip-range=10.0.0.0/16',
      ],
    },
    fieldManager: 'kmsstack-bench',
    // The KV mount the KMSDeployments use (the operator creates it: spec.vault.kv.create defaults to true).
    operatorPolicy: renderOperatorPolicy(operatorPolicyInput()),
    tokenTTL: '4h',
  });
  const { plane, vault, kube: admin, operatorVaultToken } = servers;
  const stop = async () => {
    await servers.stop();
    removeTempDir(dir);
  };
  try {
    const token = await plane.mintServiceAccountToken(OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT, {
      expirationSeconds: 4 * 3600,
    });
    await admin.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', { body: clusterAdminBinding(),
      resource: 'clusterrolebindings', verb: 'create' });
    const operator = plane.kubeConfigForToken(token, OPERATOR_SERVICE_ACCOUNT);
    await vault.enableAudit();
    const children = childrenByName();
    const serverPids = () =>
      new Map([...children].filter(([name]) => ['etcd', 'kube-apiserver', 'vault'].includes(name)));
    if (serverPids().size !== 3) {
      throw new Error(
        `expected etcd, kube-apiserver and vault among this process's children, found: ${
          [...children.keys()].join(', ')
        }`,
      );
    }
    return {
      plane,
      vault,
      admin,
      versions: await serverVersions(plane, vault),
      operatorKubeconfigPath: operator.path,
      operatorClient: new KubeClient(operator.kubeConfig),
      operatorVaultToken,
      kubeAudit: new KubeAuditLog(auditLogPath),
      vaultAudit: vaultAuditLog(vault),
      serverPids,
      prepareNamespace: servers.prepareNamespace,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The benchmark is about speed, not RBAC: the operator's ServiceAccount is a cluster admin. */
function clusterAdminBinding(): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'kmsstack-operator-bench' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: OPERATOR_SERVICE_ACCOUNT, namespace: OPERATOR_NAMESPACE }],
  };
}

async function serverVersions(plane: ControlPlane, vault: TestVault): Promise<string> {
  const kube = (JSON.parse(await plane.getRaw('/version')) as { gitVersion?: string }).gitVersion ?? '?';
  const etcd = ((await (await fetch(`${plane.etcdEndpoint}/version`)).json()) as { etcdserver?: string }).etcdserver ??
    '?';
  const vaultVersion = (await vault.request('GET', 'sys/health', undefined, '')).body?.['version'] ?? '?';
  return `kube-apiserver ${kube}, etcd ${etcd}, Vault ${String(vaultVersion)} (dev mode, in memory, audit device on)`;
}
