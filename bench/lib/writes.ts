// Write counting over a time window: Kubernetes writes of the operator's identity in one namespace
// (from the API server's audit log), the Lease renewals of leader election apart, and Vault writes
// (from Vault's audit device: every request that is not a read or list).
import { OPERATOR_NAMESPACE } from '../../test/support/operator.ts';
import { type BenchEnvironment, OPERATOR_USER } from './environment.ts';
import { breakdown, type KubeWrite } from './kube-audit.ts';
import { isVaultWrite } from './vault-audit.ts';

export interface WriteCount {
  /** The operator's writes in the KMSDeployments' namespace (children, status, finalizer, Events). */
  kube: number;
  kubeBreakdown: Record<string, number>;
  /** Lease updates of leader election (one per --retry-period while leading). */
  lease: number;
  vault: number;
  vaultBreakdown: Record<string, number>;
}

export type WriteWindow = () => WriteCount;

/** Starts counting now; the returned function gives the writes since. */
export function countWrites(env: BenchEnvironment, namespace: string): WriteWindow {
  const kubeMark = env.kubeAudit.mark();
  const vaultMark = env.vaultAudit.mark();
  return () => {
    const writes = env.kubeAudit.since(kubeMark).filter((w) => w.user === OPERATOR_USER);
    const inNamespace = writes.filter((w) => w.namespace === namespace);
    const vaultWrites = env.vaultAudit.since(vaultMark).filter(isVaultWrite);
    return {
      kube: inNamespace.length,
      kubeBreakdown: breakdown(inNamespace),
      lease: writes.filter(isLease).length,
      vault: vaultWrites.length,
      vaultBreakdown: vaultBreakdown(vaultWrites.map((w) => `${w.operation} ${w.path}`)),
    };
  };
}

function isLease(write: KubeWrite): boolean {
  return write.resource === 'leases' && write.namespace === OPERATOR_NAMESPACE;
}

/** "operation path" with the per-object part of the path generalised, counted. Pure. */
export function vaultBreakdown(entries: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const entry of entries) {
    const key = entry.replace(/kmsstack[-_][a-z0-9_-]+?[-_]bench-\d{4}/g, '<object>');
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

/** Waits until the operator made no write (Lease aside) for `quietMs`; resolves with how long that took. */
export async function settle(window: WriteWindow, quietMs: number,
  timeoutMs: number): Promise<{ settledAfterMs: number; settled: boolean }>
{
  const start = performance.now();
  let last = -1;
  let lastChange = start;
  while (performance.now() - start < timeoutMs) {
    const { kube, vault } = window();
    if (kube + vault !== last) {
      last = kube + vault;
      lastChange = performance.now();
    } else if (performance.now() - lastChange >= quietMs) {
      return { settledAfterMs: lastChange - start, settled: true };
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return { settledAfterMs: performance.now() - start, settled: false };
}
