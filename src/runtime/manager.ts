// Puts the runtime together for the KMSDeployment controller: informer caches, the work queue fed by
// their events and by a periodic resync, workers that run only while this process leads, HTTP
// endpoints, and an orderly stop (stop taking work, finish in-flight reconciles, release the lease).
import type { KubeConfig } from '@kubernetes/client-node';
import { ClusterCache, MANAGED_BY, MANAGED_BY_LABEL } from './cache.ts';
import { loadPinnedCAs, type OperatorConfig } from './config.ts';
import { Controller, type Reconciler } from './controller.ts';
import { EventRecorder } from './events.ts';
import { HttpEndpoints } from './http.ts';
import { KubeClient } from './kube/client.ts';
import { KMSSTACK_GROUP, objectKey, ownedKinds, type KnownKind, type KubeObject } from './kube/resources.ts';
import { LeaderElector } from './leader.ts';
import type { Logger } from './logger.ts';
import { WorkQueue } from './workqueue.ts';
import { exportStatusMetrics } from '../controllers/kmsdeployment/status-metrics.ts';
import { defaultDataPath } from '../controllers/kmsdeployment/data-path.ts';
import { reconcile } from '../controllers/kmsdeployment/reconcile.ts';
import { type KMSDeploymentCleanup, type KMSDeploymentStep } from '../controllers/kmsdeployment/context.ts';
import { vaultRuntime } from '../controllers/kmsdeployment/steps/vault.ts';

export interface ManagerOptions {
  config: OperatorConfig;
  kubeConfig: KubeConfig;
  logger: Logger;
  /** Stages 3-8 of the data path and the finalizer's cleanups; default defaultDataPath(). */
  steps?: readonly KMSDeploymentStep[];
  cleanups?: readonly KMSDeploymentCleanup[];
  now?: () => Date;
  /** The CAs of --vault-ca-files, already read (main reads them once); default: read them here. */
  pinnedCAs?: ReadonlyMap<string, string>;
}

export type ManagerState = 'new' | 'starting' | 'standby' | 'leading' | 'lost' | 'stopped';

export class Manager {
  readonly client: KubeClient;
  readonly cache: ClusterCache;
  readonly queue: WorkQueue;
  readonly events: EventRecorder;
  private readonly controller: Controller;
  private readonly elector: LeaderElector | undefined;
  private readonly http: HttpEndpoints;
  /** /metrics on a listener of its own (--metrics-bind-address host:port). */
  private readonly metricsHttp: HttpEndpoints | undefined;
  private readonly leaderLoop = new AbortController();
  private readonly stopStatusMetrics: () => void;
  private resyncTimer: NodeJS.Timeout | undefined;
  /**
   * The runtime's timers are unref'd, and a watch waiting to restart holds no socket: without this
   * handle the process would end with exit code 0 whenever nothing else is open (e.g. every watch
   * backing off while the API server is unreachable and the HTTP server is disabled).
   */
  private keepAlive: NodeJS.Timeout | undefined;
  private leaderTask: Promise<void> | undefined;
  private lostListeners: Array<() => void> = [];
  private stopping: Promise<boolean> | undefined;
  state: ManagerState = 'new';
  /** Port of the HTTP endpoints once started (useful with port 0). */
  httpPort: number | undefined;
  metricsPort: number | undefined;

  constructor(private readonly options: ManagerOptions) {
    const { config, logger } = options;
    this.client = new KubeClient(options.kubeConfig);
    this.cache = new ClusterCache(this.client, [
      { kind: 'KMSDeployment' },
      ...ownedKinds.map((kind) => ({ kind, labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` })),
    ], config.namespaces, logger);
    this.queue = new WorkQueue({ name: 'kmsdeployment', backoff: config.backoff });
    this.events = new EventRecorder(this.client, config.leaderElection.identity, logger);
    const defaults = options.steps ? undefined : defaultDataPath(vaultRuntime({
      serviceAccountTokenPath: config.vaultTokenPath,
      timeoutMs: config.vaultRequestTimeoutMs,
      tenancy: { addresses: config.vaultAddresses, prefixRule: config.kvPrefixRule, instance: config.instanceName },
      pinnedCAs: options.pinnedCAs ?? loadPinnedCAs(config),
    }));
    const env = {
      kube: this.client, cache: this.cache, events: this.events, now: options.now ?? (() => new Date()),
      steps: options.steps ?? defaults?.steps ?? [], cleanups: options.cleanups ?? defaults?.cleanups ?? [],
      defaultImages: config.defaultImages,
    };
    const reconciler: Reconciler = (request) => reconcile(env, request);
    this.controller = new Controller({
      name: 'kmsdeployment', queue: this.queue, reconcile: reconciler, workers: config.workers, logger,
      // A reconcile that waited longer than one Vault attempt's deadline waited on a stalled server.
      reconcileTimeoutMs: config.reconcileTimeoutMs, slowReconcileMs: config.vaultRequestTimeoutMs,
      changeToken: (key) => this.changeToken(key),
    });
    const le = config.leaderElection;
    // client-go bounds each acquire/renew attempt; a hung request must not outlast the renew deadline.
    const leaseClient = new KubeClient(options.kubeConfig, this.client.fieldManager, Math.max(1000, Math.min(le.renewDeadlineMs / 2, le.retryPeriodMs * 2)));
    this.elector = le.enabled ? new LeaderElector(leaseClient, le, logger) : undefined;
    const health = { ready: () => this.cache.hasSynced };
    const metrics = config.metricsBindAddress;
    this.http = new HttpEndpoints(health, { health: true, metrics: metrics === 'shared' });
    this.metricsHttp = metrics && metrics !== 'shared' ? new HttpEndpoints(health, { health: false, metrics: true }) : undefined;
    this.cache.onEvent((kind, _event, obj) => this.enqueueFor(kind, obj));
    this.stopStatusMetrics = exportStatusMetrics(() => this.cache.listAll('KMSDeployment'));
  }

  get isLeader(): boolean {
    return this.state === 'leading';
  }

  /** Called once if the lease is lost; the process should exit (as controller-runtime does). */
  onLeadershipLost(listener: () => void): void {
    this.lostListeners.push(listener);
  }

  /** Serves HTTP, syncs the caches, then reconciles once leading (at once without leader election). */
  async start(): Promise<void> {
    const { config, logger } = this.options;
    this.state = 'starting';
    this.keepAlive ??= setInterval(() => undefined, 2 ** 31 - 1);
    if (config.httpBindAddress) this.httpPort = await this.http.listen(config.httpBindAddress.host, config.httpBindAddress.port);
    const metrics = config.metricsBindAddress;
    if (this.metricsHttp && metrics && metrics !== 'shared') this.metricsPort = await this.metricsHttp.listen(metrics.host, metrics.port);
    await this.cache.start();
    if (this.stopping) return;
    logger.info({ namespaces: config.namespaces.length ? config.namespaces : 'all', httpPort: this.httpPort, metricsPort: this.metricsPort }, 'caches synced');
    this.resyncTimer = setInterval(() => this.resync(), config.resyncPeriodMs);
    this.resyncTimer.unref();
    if (!this.elector) {
      this.lead();
      return;
    }
    this.state = 'standby';
    this.leaderTask = this.runLeaderElection(this.elector);
  }

  /**
   * Graceful stop: no new work, in-flight reconciles get `shutdownTimeout` to finish, then the lease is
   * released and the caches and HTTP server stop. Resolves true when no reconcile had to be aborted.
   */
  stop(): Promise<boolean> {
    this.stopping ??= this.shutdown(true);
    return this.stopping;
  }

  /** Stops without finishing work or releasing the lease, as a crashed process would (for tests). */
  kill(): Promise<boolean> {
    this.stopping ??= this.shutdown(false);
    return this.stopping;
  }

  private async shutdown(graceful: boolean): Promise<boolean> {
    const { logger, config } = this.options;
    this.state = 'stopped';
    clearInterval(this.resyncTimer);
    clearInterval(this.keepAlive); // what is still open (requests, the grace timer) keeps us alive until done
    this.leaderLoop.abort();
    const clean = await this.controller.stop(graceful ? config.shutdownTimeoutMs : 0);
    await this.leaderTask;
    if (graceful) await this.elector?.release(); // a no-op unless this process holds the lease
    await this.cache.stop();
    this.stopStatusMetrics();
    await this.http.close();
    await this.metricsHttp?.close();
    logger.info({ clean }, 'stopped');
    return clean;
  }

  private lead(): void {
    this.state = 'leading';
    this.controller.start();
    this.resync();
  }

  private async runLeaderElection(elector: LeaderElector): Promise<void> {
    const signal = this.leaderLoop.signal;
    if (!(await elector.acquire(signal)) || this.stopping) return;
    this.lead();
    if ((await elector.holdLease(signal)) === 'lost' && !this.stopping) {
      this.state = 'lost';
      this.options.logger.error('leader election lost: stopping the workers');
      await this.controller.stop(this.options.config.shutdownTimeoutMs);
      this.lostListeners.forEach((listener) => listener());
    }
  }

  /** Enqueues every KMSDeployment (periodic resync, and on becoming the leader). */
  private resync(): void {
    for (const obj of this.cache.listAll('KMSDeployment')) this.queue.add(objectKey(obj));
  }

  private enqueueFor(kind: KnownKind, obj: KubeObject): void {
    if (kind === 'KMSDeployment') {
      this.queue.add(objectKey(obj));
      return;
    }
    for (const ref of obj.metadata.ownerReferences ?? []) {
      if (ref.kind === 'KMSDeployment' && ref.apiVersion.startsWith(`${KMSSTACK_GROUP}/`)) this.queue.add(`${obj.metadata.namespace}/${ref.name}`);
    }
  }

  /** Changes when the object changes in a way that could fix a terminal error. */
  private changeToken(key: string): string | undefined {
    const [namespace = '', name = ''] = key.split('/', 2);
    const obj = this.cache.get('KMSDeployment', namespace, name);
    if (!obj) return undefined;
    const m = obj.metadata;
    return JSON.stringify([m.uid, m.generation, m.deletionTimestamp, m.annotations ?? {}, m.labels ?? {}]);
  }
}
