// Workers that drain a WorkQueue into a reconcile function, with controller-runtime's result rules:
// success forgets the key's backoff; requeueAfter schedules the key again; an error retries it with
// per-key exponential backoff; a TerminalError is not retried until the object changes.
//
// No tenant may hold the workers: a reconcile gets a deadline (its signal aborts then, and a reconcile
// still running shortly after gives its worker back while its key stays in flight, so the key never
// runs twice at once), and one worker takes only keys whose last reconcile was not slow.
import { randomUUID } from 'node:crypto';
import type { Logger } from './logger.ts';
import { reconcileDuration, reconcileTotal } from './metrics.ts';
import type { WorkQueue } from './workqueue.ts';

const ABORT_GRACE_MS = 5_000;
export const DEFAULT_RECONCILE_TIMEOUT_MS = 120_000;
export const DEFAULT_SLOW_RECONCILE_MS = 10_000;

export interface ReconcileResult {
  /** Reconcile again after this many ms (waiting for pods, a rotation due...). */
  requeueAfterMs?: number;
  /** Reconcile again after the rate limiter's delay for this key (controller-runtime's Requeue: true); wins over requeueAfterMs. */
  retry?: boolean;
}

export interface ReconcileRequest {
  key: string;
  namespace: string;
  name: string;
  logger: Logger;
  reconcileId: string;
  signal: AbortSignal;
}

export type Reconciler = (request: ReconcileRequest) => Promise<ReconcileResult>;

/** A reconcile ran past its deadline; it is retried with backoff like any other failure. */
export class ReconcileTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the reconcile did not finish within ${timeoutMs} ms (--reconcile-timeout); retrying with backoff`);
    this.name = 'ReconcileTimeoutError';
  }
}

/** An error that retrying cannot fix (e.g. an invalid spec): the key waits for the object to change. */
export class TerminalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TerminalError';
  }
}

export interface ControllerOptions {
  name: string;
  queue: WorkQueue;
  reconcile: Reconciler;
  workers: number;
  /** A reconcile's signal aborts after this long; default 2 minutes. */
  reconcileTimeoutMs?: number;
  /**
   * A reconcile that took at least this long marks its key slow (it waited on a stalled server): with
   * two workers or more, one worker takes no slow key, so slow tenants cannot hold every worker.
   */
  slowReconcileMs?: number;
  logger: Logger;
  /**
   * A token that changes whenever the object behind `key` changes in a way that could fix a terminal
   * error (generation, annotations, deletion); keys that failed terminally are skipped while it is the same.
   */
  changeToken: (key: string) => string | undefined;
}

export class Controller {
  private readonly terminal = new Map<string, string | undefined>();
  private readonly slow = new Set<string>();
  private readonly abort = new AbortController();
  private workers: Promise<void>[] = [];
  private started = false;

  constructor(private readonly options: ControllerOptions) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    const notSlow = (key: string) => !this.slow.has(key);
    for (let i = 0; i < this.options.workers; i++) {
      this.workers.push(this.work(i === 0 && this.options.workers > 1 ? notSlow : undefined));
    }
  }

  /**
   * Stops taking keys and waits up to `timeoutMs` for in-flight reconciles; those still running then
   * get their signal aborted. Resolves true when every worker finished in time.
   */
  async stop(timeoutMs: number): Promise<boolean> {
    this.options.queue.shutdown();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    // A reconcile that outlived its deadline keeps its key in flight, so drained() also waits for it.
    const finished = await Promise.race([
      Promise.all(this.workers).then(() => this.options.queue.drained()).then(() => true as const),
      timeout,
    ]);
    clearTimeout(timer);
    if (!finished) {
      this.abort.abort(new Error('shutdown timeout'));
      this.options.logger.warn({ timeoutMs }, 'reconciles still running at the shutdown timeout were aborted');
      // Give aborted reconciles a moment to unwind, so that nothing writes after the lease is released.
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, ABORT_GRACE_MS)));
      await Promise.race([Promise.all(this.workers).then(() => this.options.queue.drained()), grace]);
      clearTimeout(timer);
    }
    return finished;
  }

  private async work(accept: ((key: string) => boolean) | undefined): Promise<void> {
    const { queue } = this.options;
    for (;;) {
      const key = await queue.get(accept);
      if (key === undefined) return;
      await this.process(key);
    }
  }

  /** Resolves when the reconcile of `key` settled or ran past its deadline; done(key) waits for the former. */
  private async process(key: string): Promise<void> {
    const { queue, name: controller } = this.options;
    // The token of the version this reconcile reads: a change made meanwhile must not be skipped later.
    const token = this.options.changeToken(key);
    if (this.terminal.has(key)) {
      if (this.terminal.get(key) === token) {
        reconcileTotal.inc({ controller, result: 'skipped' });
        queue.done(key);
        return;
      }
      this.terminal.delete(key);
    }
    const reconcileId = randomUUID();
    const [namespace = '', name = ''] = key.includes('/') ? key.split('/', 2) : ['', key];
    const logger = this.options.logger.child({ controller, key, reconcileId });
    const timeoutMs = this.options.reconcileTimeoutMs ?? DEFAULT_RECONCILE_TIMEOUT_MS;
    const deadline = new AbortController();
    const signal = AbortSignal.any([this.abort.signal, deadline.signal]);
    const started = Date.now();
    const endTimer = reconcileDuration.startTimer({ controller });
    logger.debug('reconcile started');
    const run = this.options
      .reconcile({ key, namespace, name, logger, reconcileId, signal })
      .then((result) => ({ result, err: undefined }), (err: unknown) => ({ result: undefined, err }))
      .finally(endTimer);
    let abortTimer: NodeJS.Timeout | undefined;
    let giveUpTimer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      abortTimer = setTimeout(() => deadline.abort(new ReconcileTimeoutError(timeoutMs)), timeoutMs);
      giveUpTimer = setTimeout(() => resolve('expired'), timeoutMs + Math.min(ABORT_GRACE_MS, timeoutMs));
    });
    const outcome = await Promise.race([run, expired]);
    clearTimeout(abortTimer);
    clearTimeout(giveUpTimer);
    const slowMs = this.options.slowReconcileMs ?? DEFAULT_SLOW_RECONCILE_MS;
    if (Date.now() - started >= slowMs) this.slow.add(key);
    else this.slow.delete(key);
    if (outcome === 'expired') {
      // The key stays in flight until the reconcile ends (so it never runs twice); the retry follows then.
      const retryInMs = queue.addRateLimited(key);
      reconcileTotal.inc({ controller, result: 'timeout' });
      logger.error({ err: new ReconcileTimeoutError(timeoutMs), retryInMs },
        'reconcile failed: past its deadline and still running; its worker moves on');
      void run.then(({ err }) => {
        logger.warn({ err }, 'reconcile that ran past its deadline ended');
        queue.done(key);
      });
      return;
    }
    this.record(key, token, logger, outcome);
    queue.done(key);
  }

  private record(key: string, token: string | undefined, logger: Logger,
    outcome: { result: ReconcileResult | undefined; err: unknown }): void
  {
    const { queue, name: controller } = this.options;
    const { result, err } = outcome;
    if (result?.retry) {
      // The reconcile asked to try again (a step's retry): rate-limited like an error, but not one.
      const retryInMs = queue.addRateLimited(key);
      reconcileTotal.inc({ controller, result: 'requeue' });
      logger.debug({ retryInMs, failures: queue.failures(key) }, 'reconcile done; retrying with backoff');
    } else if (result) {
      queue.forget(key);
      if (result.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
        queue.addAfter(key, result.requeueAfterMs);
        reconcileTotal.inc({ controller, result: 'requeue' });
        logger.debug({ requeueAfterMs: result.requeueAfterMs }, 'reconcile done; requeued');
      } else {
        reconcileTotal.inc({ controller, result: 'success' });
        logger.debug('reconcile done');
      }
    } else if (err instanceof TerminalError) {
      queue.forget(key);
      this.terminal.set(key, token);
      reconcileTotal.inc({ controller, result: 'terminal' });
      logger.error({ err }, 'reconcile failed terminally; waiting for the object to change');
    } else {
      const retryInMs = queue.addRateLimited(key);
      reconcileTotal.inc({ controller, result: err instanceof ReconcileTimeoutError ? 'timeout' : 'error' });
      logger.error({ err, retryInMs, failures: queue.failures(key) }, 'reconcile failed; retrying with backoff');
    }
  }
}
