// Puts the runtime together for the controllers main.ts registers (builder.ts): informer caches of
// the kinds they are for and own, metadata-only watches of the objects they read (builder.ts
// WatchRegistration), a work queue per controller fed by those events and by a periodic resync, workers that run only while this process leads, HTTP endpoints, and an orderly
// stop (stop taking work, finish in-flight reconciles, release the lease).
import type { KubeConfig } from '@kubernetes/client-node';
import type { ControllerRegistration } from './builder.ts';
import { ClusterCache, type WatchSpec } from './cache.ts';
import { Controller } from './controller.ts';
import { EventRecorder } from './events.ts';
import { HttpEndpoints } from './http.ts';
import { Informer, type InformerEvent, metadataOnly } from './informer.ts';
import { changeTokenOf, ReconcileTrigger } from './reconcile-trigger.ts';
import { KubeClient } from './kube/client.ts';
import { type KnownKind, type KubeObject, objectKey, resources } from './kube/resources.ts';
import { type LeaderElectionOptions, LeaderElector } from './leader.ts';
import type { Logger } from './logger.ts';
import { WorkQueue } from './workqueue.ts';

/** The operator settings the runtime reads (a subset of the operator's configuration). */
export interface RuntimeConfig {
  /** Namespaces to watch; empty = all namespaces. */
  namespaces: string[];
  workers: number;
  resyncPeriodMs: number;
  /** A reconcile's deadline (--reconcile-timeout). */
  reconcileTimeoutMs: number;
  /** host:port of /healthz, /readyz (and /metrics unless metricsBindAddress says otherwise); undefined = no HTTP server. */
  httpBindAddress: { host: string; port: number } | undefined;
  /** Where /metrics is served: with the health endpoints ('shared'), not at all, or on its own host:port. */
  metricsBindAddress: 'shared' | { host: string; port: number } | undefined;
  leaderElection: LeaderElectionOptions & { enabled: boolean };
  shutdownTimeoutMs: number;
  backoff: { baseMs: number; maxMs: number };
}

export interface ManagerOptions {
  config: RuntimeConfig;
  kubeConfig: KubeConfig;
  logger: Logger;
  /** The controllers to run (controllerFor(...).owns(...).complete(...)); main.ts registers them. */
  controllers: readonly ControllerRegistration[];
}

interface Running {
  registration: ControllerRegistration;
  queue: WorkQueue;
  controller: Controller;
  stop?: () => void;
}

export type ManagerState = 'new' | 'starting' | 'standby' | 'leading' | 'lost' | 'stopped';

export class Manager {
  readonly client: KubeClient;
  readonly cache: ClusterCache;
  readonly events: EventRecorder;
  private readonly running: Running[];
  /** The informers of the controllers' WatchRegistrations (started and stopped with the cache). */
  private readonly mappedInformers: Informer[] = [];
  private readonly reconcileTrigger = new ReconcileTrigger();
  private readonly elector: LeaderElector | undefined;
  private readonly http: HttpEndpoints;
  /** /metrics on a listener of its own (--metrics-bind-address host:port). */
  private readonly metricsHttp: HttpEndpoints | undefined;
  private readonly leaderLoop = new AbortController();
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
    this.cache = new ClusterCache(this.client, watchesOf(options.controllers), config.namespaces, logger);
    this.events = new EventRecorder(this.client, config.leaderElection.identity, logger);
    const parts = { kube: this.client, cache: this.cache, events: this.events };
    this.running = options.controllers.map((registration) => {
      const built = registration.build(parts);
      const queue = new WorkQueue({ name: registration.name, backoff: config.backoff });
      const controller = new Controller({
        name: registration.name,
        queue,
        reconcile: built.reconcile,
        workers: config.workers,
        logger,
        reconcileTimeoutMs: config.reconcileTimeoutMs,
        slowReconcileMs: built.slowReconcileMs,
        changeToken: (key) => this.changeToken(registration.for, key),
      });
      return { registration, queue, controller, stop: built.stop };
    });
    for (const { registration, queue } of this.running) {
      for (const watch of registration.watches) {
        for (const namespace of config.namespaces.length === 0 ? [undefined] : config.namespaces) {
          const informer = new Informer({
            client: this.client,
            type: resources[watch.kind],
            logger,
            transform: metadataOnly,
            ...(namespace === undefined ? {} : { namespace }),
            ...(watch.fieldSelector === undefined ? {} : { fieldSelector: watch.fieldSelector }),
          });
          for (const event of ['add', 'update', 'delete'] as const) {
            informer.on(event, (obj) => watch.map(obj, this.cache).forEach((key) => queue.add(key)));
          }
          this.mappedInformers.push(informer);
        }
      }
    }
    const le = config.leaderElection;
    // client-go bounds each acquire/renew attempt; a hung request must not outlast the renew deadline.
    const leaseClient = new KubeClient(options.kubeConfig, this.client.fieldManager,
      Math.max(1000, Math.min(le.renewDeadlineMs / 2, le.retryPeriodMs * 2)));
    this.elector = le.enabled ? new LeaderElector(leaseClient, le, logger) : undefined;
    const health = {
      ready: () => this.cache.hasSynced && this.mappedInformers.every((informer) => informer.hasSynced),
    };
    const metrics = config.metricsBindAddress;
    this.http = new HttpEndpoints(health, { health: true, metrics: metrics === 'shared' });
    this.metricsHttp = metrics && metrics !== 'shared'
      ? new HttpEndpoints(health, { health: false, metrics: true })
      : undefined;
    this.cache.onEvent((kind, event, obj) => this.enqueueFor(kind, event, obj));
  }

  /** The work queue of the first registered controller (tests add keys to it). */
  get queue(): WorkQueue {
    const first = this.running[0];
    if (!first) throw new Error('no controller is registered');
    return first.queue;
  }

  get isLeader(): boolean {
    return this.state === 'leading';
  }

  /** Registers `listener`, called once if the lease is lost; the process should exit (as controller-runtime does). */
  onLeadershipLost(listener: () => void): void {
    this.lostListeners.push(listener);
  }

  /** Serves HTTP, syncs the caches, then reconciles once leading (at once without leader election). */
  async start(): Promise<void> {
    const { config, logger } = this.options;
    this.state = 'starting';
    this.keepAlive ??= setInterval(() => undefined, 2 ** 31 - 1);
    if (config.httpBindAddress) {
      this.httpPort = await this.http.listen(config.httpBindAddress.host, config.httpBindAddress.port);
    }
    const metrics = config.metricsBindAddress;
    if (this.metricsHttp && metrics && metrics !== 'shared') {
      this.metricsPort = await this.metricsHttp.listen(metrics.host, metrics.port);
    }
    await Promise.all([this.cache.start(), ...this.mappedInformers.map((informer) => informer.start())]);
    if (this.stopping) return;
    logger.info({ namespaces: config.namespaces.length ? config.namespaces : 'all', httpPort: this.httpPort,
      metricsPort: this.metricsPort }, 'caches synced');
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
    const clean = await this.stopControllers(graceful ? config.shutdownTimeoutMs : 0);
    await this.leaderTask;
    if (graceful) await this.elector?.release(); // a no-op unless this process holds the lease
    await Promise.all([this.cache.stop(), ...this.mappedInformers.map((informer) => informer.stop())]);
    for (const running of this.running) running.stop?.();
    await this.http.close();
    await this.metricsHttp?.close();
    logger.info({ clean }, 'stopped');
    return clean;
  }

  private lead(): void {
    this.state = 'leading';
    for (const running of this.running) running.controller.start();
    this.resync();
  }

  private async runLeaderElection(elector: LeaderElector): Promise<void> {
    const signal = this.leaderLoop.signal;
    if (!(await elector.acquire(signal)) || this.stopping) return;
    this.lead();
    if ((await elector.holdLease(signal)) === 'lost' && !this.stopping) {
      this.state = 'lost';
      this.options.logger.error('leader election lost: stopping the workers');
      await this.stopControllers(this.options.config.shutdownTimeoutMs);
      this.lostListeners.forEach((listener) => listener());
    }
  }

  /** Stops every controller's workers; true when no reconcile had to be aborted. */
  private async stopControllers(timeoutMs: number): Promise<boolean> {
    const clean = await Promise.all(this.running.map((running) => running.controller.stop(timeoutMs)));
    return clean.every(Boolean);
  }

  /** Enqueues every object a controller is for (periodic resync, and on becoming the leader). */
  private resync(): void {
    for (const { registration, queue } of this.running) {
      for (const obj of this.cache.listAll(registration.for)) queue.add(objectKey(obj));
    }
  }

  private enqueueFor(kind: KnownKind, event: InformerEvent, obj: KubeObject): void {
    let asks: boolean | undefined; // once per event, however many controllers are for this kind
    for (const { registration, queue } of this.running) {
      if (kind === registration.for) {
        asks ??= this.reconcileTrigger.asksForReconcile(event, obj);
        if (asks) queue.add(objectKey(obj));
        continue;
      }
      if (!registration.owns.includes(kind)) continue;
      // Any version of the owner's API group: an object made under an older version is still its child.
      const group = groupOf(resources[registration.for].apiVersion);
      for (const ref of obj.metadata.ownerReferences ?? []) {
        if (ref.kind === registration.for && groupOf(ref.apiVersion) === group) {
          queue.add(`${obj.metadata.namespace}/${ref.name}`);
        }
      }
    }
  }

  /** Changes when the object changes in a way that could fix a terminal error. */
  private changeToken(kind: KnownKind, key: string): string | undefined {
    const [namespace = '', name = ''] = key.split('/', 2);
    const obj = this.cache.get(kind, namespace, name);
    return obj ? changeTokenOf(obj) : undefined;
  }
}

function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '';
}

/** The caches the controllers need: every kind one is for, and the kinds they own (narrowed by their selector). */
function watchesOf(controllers: readonly ControllerRegistration[]): WatchSpec[] {
  const watches = new Map<KnownKind, WatchSpec>();
  for (const c of controllers) watches.set(c.for, { kind: c.for });
  for (const c of controllers) {
    for (const kind of c.owns) {
      if (!watches.has(kind)) {
        watches.set(kind, { kind, ...(c.ownedSelector ? { labelSelector: c.ownedSelector } : {}) });
      }
    }
  }
  return [...watches.values()];
}
