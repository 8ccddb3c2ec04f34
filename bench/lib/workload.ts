// The KMSDeployments the benchmark creates, and how it decides that one has converged.
//
// Converged = the operator reached the fixed point this environment allows: there is no kubelet
// (no Pods, no workload status) and no KES, so KESAvailable, KeysReady, MinIOAvailable,
// EncryptionVerified and Ready can never become True here. An object counts as converged when its
// status is written for its current generation, VaultConfigured is True (KV mount, policy, AppRole
// role, secret-id and the AppRole Secret are done), and the KES step got as far as it can: True,
// or waiting for something this environment lacks (the certificates, while the PKI step is not
// wired into the data path, or KES pods). The runtime applies a step's children before the next
// step runs and writes status last, so such a status also means every child declared so far exists.
import { inNamespace, kmsDeployment, withVault } from '../../test/support/kmsdeployment.ts';
import { Informer } from '../../src/runtime/informer.ts';
import type { KubeClient } from '../../src/runtime/kube/client.ts';
import { type KubeObject, resources } from '../../src/runtime/kube/resources.ts';
import type { Logger } from '../../src/runtime/logger.ts';
import { TOKEN_SECRET } from '../../test/support/stack.ts';

/** KESAvailable reasons that mean "blocked on what this environment cannot provide". */
export const UNPROVIDABLE_KES_REASONS = ['WaitingForCertificates', 'WaitingForPods'] as const;

export function objectName(index: number): string {
  return `bench-${String(index).padStart(4, '0')}`;
}

/** A Vault-mode KMSDeployment whose operator logs in with the token Secret of its namespace. Pure. */
export function benchKMSDeployment(namespace: string, name: string, vaultAddress: string): KubeObject {
  const auth = { token: { secretRef: { name: TOKEN_SECRET, key: 'token' } } };
  return kmsDeployment(name, inNamespace(namespace), withVault(vaultAddress, { auth, appRole: { tokenTTL: '5m' } }));
}

/** The spec change of the throughput phase: the AppRole token TTL, so each reconcile also writes the role in Vault. */
export function tokenTTLPatch(round: number): Record<string, unknown> {
  return { spec: { vault: { appRole: { tokenTTL: `${6 + round}m` } } } };
}

interface ConditionView {
  type: string;
  status: string;
  reason?: string;
  observedGeneration?: number;
}

/** Whether `object` has converged (see the top of this file) for `generation`. Pure. */
export function isConverged(object: KubeObject | undefined, generation: number): boolean {
  if (!object) return false;
  const status = object['status'] as { observedGeneration?: number; conditions?: ConditionView[] } | undefined;
  if (status?.observedGeneration !== generation || (object.metadata.generation ?? 0) !== generation) return false;
  const condition = (type: string) => status.conditions?.find((c) => c.type === type);
  const vault = condition('VaultConfigured');
  if (vault?.status !== 'True' || vault.observedGeneration !== generation) return false;
  const kes = condition('KESAvailable');
  if (!kes || kes.observedGeneration !== generation) return false;
  return kes.status === 'True' || (UNPROVIDABLE_KES_REASONS as readonly string[]).includes(kes.reason ?? '');
}

interface Tracked {
  since: number;
  generation: number;
  convergedAt?: number;
}

/**
 * Watches the KMSDeployments of one namespace and records when each tracked object converges. The
 * same watch times the operator and the floor, so both are measured the same way.
 */
export class ConvergenceWatch {
  private readonly informer: Informer;
  private readonly tracked = new Map<string, Tracked>();
  private waiters: Array<() => void> = [];

  constructor(client: KubeClient, readonly namespace: string, logger: Logger) {
    this.informer = new Informer({ client, type: resources.KMSDeployment, namespace, logger });
    const check = (object: KubeObject) => this.check(object);
    this.informer.on('add', check);
    this.informer.on('update', check);
  }

  start(): Promise<void> {
    return this.informer.start();
  }

  /** From now (`since`, performance.now()) on, `name` is waited for at `generation`. */
  track(name: string, since: number, generation: number): void {
    this.tracked.set(name, { since, generation });
    const cached = this.informer.get(name, this.namespace);
    if (cached) this.check(cached);
  }

  get(name: string): KubeObject | undefined {
    return this.informer.get(name, this.namespace);
  }

  list(): readonly KubeObject[] {
    return this.informer.list(this.namespace);
  }

  /** Milliseconds from track() to convergence per name, once all have converged. */
  async waitAll(names: readonly string[], timeoutMs: number): Promise<{ latenciesMs: number[]; lastAt: number }> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const pending = names.filter((n) => this.tracked.get(n)?.convergedAt === undefined);
      if (pending.length === 0) break;
      if (performance.now() > deadline) {
        const sample = pending.slice(0, 3).map((n) => `${n}: ${describe(this.get(n))}`).join('\n  ');
        throw new Error(
          `${pending.length} of ${names.length} KMSDeployments did not converge within ${
            timeoutMs / 1000
          } s, e.g.\n  ${sample}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const done = names.map((n) => this.tracked.get(n) as Required<Tracked>);
    return { latenciesMs: done.map((t) => t.convergedAt - t.since),
      lastAt: Math.max(...done.map((t) => t.convergedAt)) };
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }

  private check(object: KubeObject): void {
    const tracked = this.tracked.get(object.metadata.name ?? '');
    if (!tracked || tracked.convergedAt !== undefined || !isConverged(object, tracked.generation)) return;
    tracked.convergedAt = performance.now();
    this.waiters.splice(0).forEach((wake) => wake());
  }
}

function describe(object: KubeObject | undefined): string {
  if (!object) return 'not in the cache';
  const status = object['status'] as { observedGeneration?: number; conditions?: ConditionView[] } | undefined;
  const conditions = (status?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason ?? ''}`).join(' ');
  return `generation ${object.metadata.generation}, observed ${status?.observedGeneration ?? 'none'}; ${
    conditions || 'no conditions'
  }`;
}
