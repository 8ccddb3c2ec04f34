// Workers that drain a WorkQueue into a reconcile function, with controller-runtime's result rules:
// success forgets the key's backoff; requeueAfter schedules the key again; an error retries it with
// per-key exponential backoff; a TerminalError is not retried until the object changes.
import { randomUUID } from 'node:crypto';
import type { Logger } from './logger.ts';
import { reconcileDuration, reconcileTotal } from './metrics.ts';
import type { WorkQueue } from './workqueue.ts';

const ABORT_GRACE_MS = 5_000;

export interface ReconcileResult {
  /** Reconcile again after this many ms (waiting for pods, a rotation due...). */
  requeueAfterMs?: number;
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
  logger: Logger;
  /**
   * A token that changes whenever the object behind `key` changes in a way that could fix a terminal
   * error (generation, annotations, deletion); keys that failed terminally are skipped while it is the same.
   */
  changeToken: (key: string) => string | undefined;
}

export class Controller {
  private readonly terminal = new Map<string, string | undefined>();
  private readonly abort = new AbortController();
  private workers: Promise<void>[] = [];
  private started = false;

  constructor(private readonly options: ControllerOptions) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    for (let i = 0; i < this.options.workers; i++) this.workers.push(this.work());
  }

  /**
   * Stops taking keys and waits up to `timeoutMs` for in-flight reconciles; those still running then
   * get their signal aborted. Resolves true when every worker finished in time.
   */
  async stop(timeoutMs: number): Promise<boolean> {
    this.options.queue.shutdown();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const finished = await Promise.race([Promise.all(this.workers).then(() => true as const), timeout]);
    clearTimeout(timer);
    if (!finished) {
      this.abort.abort(new Error('shutdown timeout'));
      this.options.logger.warn({ timeoutMs }, 'reconciles still running at the shutdown timeout were aborted');
      // Give aborted reconciles a moment to unwind, so that nothing writes after the lease is released.
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, ABORT_GRACE_MS)));
      await Promise.race([Promise.all(this.workers), grace]);
      clearTimeout(timer);
    }
    return finished;
  }

  private async work(): Promise<void> {
    const { queue } = this.options;
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await this.process(key);
      } finally {
        queue.done(key);
      }
    }
  }

  private async process(key: string): Promise<void> {
    const { queue, name: controller } = this.options;
    // The token of the version this reconcile reads: a change made meanwhile must not be skipped later.
    const token = this.options.changeToken(key);
    if (this.terminal.has(key)) {
      if (this.terminal.get(key) === token) {
        reconcileTotal.inc({ controller, result: 'skipped' });
        return;
      }
      this.terminal.delete(key);
    }
    const reconcileId = randomUUID();
    const [namespace = '', name = ''] = key.includes('/') ? key.split('/', 2) : ['', key];
    const logger = this.options.logger.child({ controller, key, reconcileId });
    const endTimer = reconcileDuration.startTimer({ controller });
    logger.debug('reconcile started');
    try {
      const result = await this.options.reconcile({ key, namespace, name, logger, reconcileId, signal: this.abort.signal });
      queue.forget(key);
      if (result.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
        queue.addAfter(key, result.requeueAfterMs);
        reconcileTotal.inc({ controller, result: 'requeue' });
        logger.debug({ requeueAfterMs: result.requeueAfterMs }, 'reconcile done; requeued');
      } else {
        reconcileTotal.inc({ controller, result: 'success' });
        logger.debug('reconcile done');
      }
    } catch (err) {
      if (err instanceof TerminalError) {
        queue.forget(key);
        this.terminal.set(key, token);
        reconcileTotal.inc({ controller, result: 'terminal' });
        logger.error({ err }, 'reconcile failed terminally; waiting for the object to change');
      } else {
        const retryInMs = queue.addRateLimited(key);
        reconcileTotal.inc({ controller, result: 'error' });
        logger.error({ err, retryInMs, failures: queue.failures(key) }, 'reconcile failed; retrying with backoff');
      }
    } finally {
      endTimer();
    }
  }
}
