// Leader election on a coordination.k8s.io/v1 Lease with client-go's algorithm: a candidate takes
// the lease when it is free or its holder has not renewed it within leaseDuration (measured on the
// local clock from when this process last saw the record change, so clocks need not agree); the leader
// renews every retryPeriod and gives up when it could not renew for renewDeadline. Updates use the
// Lease's resourceVersion (optimistic concurrency), so two candidates can never both win.
import { type Clock, jitter, sleep, systemClock } from './clock.ts';
import { isConflict, type KubeClient } from './kube/client.ts';
import { type KubeObject, resources } from './kube/resources.ts';
import type { Logger } from './logger.ts';
import { leaderGauge } from './metrics.ts';

export interface LeaderElectionOptions {
  namespace: string;
  leaseName: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

/** Lease times are metav1.MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private observedSpec: string | undefined;
  private observedAt = 0;
  private leader = false;
  private lease: Lease | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly options: LeaderElectionOptions,
    private readonly logger: Logger,
    private readonly clock: Clock = systemClock,
  ) {}

  get isLeader(): boolean {
    return this.leader;
  }

  /**
   * Blocks until this candidate holds the lease (true) or `signal` aborts (false).
   */
  async acquire(signal: AbortSignal): Promise<boolean> {
    this.logger.info({ lease: this.leaseRef() }, 'waiting to acquire the leader election lease');
    while (!signal.aborted) {
      if ((await this.tryAcquireOrRenew()) === 'held') {
        this.setLeader(true);
        this.logger.info({ lease: this.leaseRef(), identity: this.options.identity }, 'became the leader');
        return true;
      }
      // client-go waits retryPeriod * (1 + up to 1.2) between attempts of a candidate.
      await sleep(this.clock, jitter(this.options.retryPeriodMs, 1.2), signal);
    }
    return false;
  }

  /**
   * Renews every retryPeriod until `signal` aborts (resolves 'stopped') or a renewal did not succeed
   * within renewDeadline (resolves 'lost'; the caller must stop acting as leader at once).
   */
  async holdLease(signal: AbortSignal): Promise<'stopped' | 'lost'> {
    let lastRenewal = this.clock.now();
    while (!signal.aborted) {
      await sleep(this.clock, this.options.retryPeriodMs, signal);
      if (signal.aborted) break;
      const outcome = await this.tryAcquireOrRenew();
      if (outcome === 'held') {
        lastRenewal = this.clock.now();
        continue;
      }
      if (outcome === 'taken' || this.clock.now() - lastRenewal >= this.options.renewDeadlineMs) {
        this.setLeader(false);
        this.logger.error({ lease: this.leaseRef() }, 'lost the leader election lease');
        return 'lost';
      }
    }
    return 'stopped';
  }

  /** Gives the lease up at once (client-go's ReleaseOnCancel): empty holder, 1s duration. */
  async release(): Promise<void> {
    if (!this.leader || !this.lease) return;
    this.setLeader(false);
    const now = microTime(this.clock.now());
    const released: Lease = {
      ...this.lease,
      spec: { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now,
        leaseTransitions: this.lease.spec?.leaseTransitions ?? 0 },
    };
    try {
      await this.client.replace(released);
      this.logger.info({ lease: this.leaseRef() }, 'released the leader election lease');
    } catch (err) {
      this.logger.warn({ err, lease: this.leaseRef() },
        'could not release the leader election lease; it expires by itself');
    }
  }

  /** held: this candidate holds the lease now; taken: another holder's lease is valid; failed: API error. */
  private async tryAcquireOrRenew(): Promise<'held' | 'taken' | 'failed'> {
    const { namespace, leaseName, identity } = this.options;
    const now = this.clock.now();
    const desired: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.options.leaseDurationMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    try {
      const current = await this.client.get<Lease>(resources.Lease, namespace, leaseName);
      if (!current) {
        this.lease = await this.client.create<Lease>({ ...this.leaseHeader(), spec: desired });
        this.observe(this.lease.spec, now);
        return 'held';
      }
      const spec = current.spec ?? {};
      this.observe(spec, now);
      const holder = spec.holderIdentity ?? '';
      const heldByOther = holder !== '' && holder !== identity;
      const durationMs = (spec.leaseDurationSeconds ?? 0) * 1000;
      if (heldByOther && this.observedAt + durationMs > now) return 'taken';
      if (holder === identity) {
        desired.acquireTime = spec.acquireTime ?? desired.acquireTime;
        desired.leaseTransitions = spec.leaseTransitions ?? 0;
      } else {
        desired.leaseTransitions = (spec.leaseTransitions ?? 0) + 1;
      }
      this.lease = await this.client.replace<Lease>({ ...current, spec: desired });
      this.observe(this.lease.spec, now);
      return 'held';
    } catch (err) {
      if (!isConflict(err)) {
        this.logger.warn({ err, lease: this.leaseRef() }, 'leader election: could not get or update the lease');
      }
      return 'failed';
    }
  }

  private observe(spec: LeaseSpec | undefined, now: number): void {
    const text = JSON.stringify(spec ?? {});
    if (text !== this.observedSpec) {
      this.observedSpec = text;
      this.observedAt = now;
    }
  }

  private setLeader(value: boolean): void {
    this.leader = value;
    leaderGauge.set({ lease: this.leaseRef() }, value ? 1 : 0);
  }

  private leaseHeader(): Lease {
    return { apiVersion: resources.Lease.apiVersion, kind: resources.Lease.kind,
      metadata: { name: this.options.leaseName, namespace: this.options.namespace } };
  }

  private leaseRef(): string {
    return `${this.options.namespace}/${this.options.leaseName}`;
  }
}
