// The operator as a separate process, the way a pod runs it: `node --import tsx src/main.ts` (or a
// test entry point built the same way) with flags, its stdout/stderr in a log file. A test can kill
// it (SIGKILL, as a crash or an OOM kill would), pause it (SIGSTOP), and check that it never ended
// on its own: an exit nobody asked for is a crash.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManagedProcess, repoRoot, waitFor } from '../env/process.ts';

export interface OperatorOptions {
  kubeconfigPath: string;
  /** Namespace of the leader election Lease; with `leaderElection: false` the operator runs at once. */
  leaseNamespace: string;
  leaseName?: string;
  leaderElection?: boolean;
  /** Lease timing (default: short, so a killed leader is replaced within ~3 s). */
  lease?: { duration: string; renewDeadline: string; retryPeriod: string };
  resyncPeriod?: string;
  /** "127.0.0.1:0" serves /metrics on a free port; default "0" (no HTTP server). */
  httpAddress?: string;
  logLevel?: string;
  /** Entry point relative to the repository (default src/main.ts). */
  script?: string;
  extraArgs?: string[];
  env?: Record<string, string>;
  /** Directory of the log files (the caller's temp dir, removed with it). */
  logDir: string;
}

export const FAST_LEASE = { duration: '3s', renewDeadline: '2s', retryPeriod: '500ms' };

let launches = 0;

export class OperatorProcess {
  readonly logFile: string;
  private readonly process: ManagedProcess;
  private expectedExit = false;
  private readonly startedAt = Date.now();

  private constructor(readonly options: OperatorOptions) {
    this.logFile = join(options.logDir, `operator-${++launches}.log`);
    const lease = options.lease ?? FAST_LEASE;
    const args = [
      '--import', 'tsx', join(repoRoot, options.script ?? 'src/main.ts'),
      '--kubeconfig', options.kubeconfigPath,
      `--leader-election=${options.leaderElection === false ? 'false' : 'true'}`,
      '--leader-election-namespace', options.leaseNamespace,
      '--leader-election-lease-name', options.leaseName ?? 'kmsstack-operator',
      '--lease-duration', lease.duration, '--renew-deadline', lease.renewDeadline, '--retry-period', lease.retryPeriod,
      '--resync-period', options.resyncPeriod ?? '10m',
      '--http-address', options.httpAddress ?? '0',
      '--log-level', options.logLevel ?? 'info',
      ...(options.extraArgs ?? []),
    ];
    this.process = new ManagedProcess('operator', process.execPath, args, this.logFile, { ...process.env, ...options.env });
  }

  static start(options: OperatorOptions): OperatorProcess {
    const operator = new OperatorProcess(options);
    operator.process.start();
    return operator;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get running(): boolean {
    return this.process.running;
  }

  /** Everything the process wrote so far (stdout and stderr interleaved). */
  output(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  /** The JSON log lines (pino), skipping anything else (e.g. a stack trace on stderr). */
  logLines(): Array<Record<string, unknown>> {
    const lines: Array<Record<string, unknown>> = [];
    for (const line of this.output().split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a line cut by a kill: not a log record
      }
    }
    return lines;
  }

  /** Keys whose reconcile started and has not finished, per the log (needs log level debug). */
  inFlightReconciles(): string[] {
    const open = new Map<string, string>();
    for (const line of this.logLines()) {
      const id = line.reconcileId as string | undefined;
      if (!id) continue;
      if (line.msg === 'reconcile started') open.set(id, String(line.key));
      else if (typeof line.msg === 'string' && /^reconcile (done|failed)/.test(line.msg)) open.delete(id);
    }
    return [...open.values()];
  }

  /** Throws (with the end of the log) if the process ended without being told to: a crash. */
  assertAlive(context = ''): void {
    if (!this.expectedExit && !this.process.running) {
      throw new Error(`the operator process exited on its own${context ? ` (${context})` : ''}; last output:\n${this.output().slice(-3000)}`);
    }
  }

  /** Resolves once the process logs that it leads (or runs without leader election) and its caches synced. */
  async waitUntilReconciling(timeoutMs = 30_000): Promise<number> {
    const marker = this.options.leaderElection === false ? '"msg":"operator started"' : '"msg":"became the leader"';
    await waitFor('the operator to start reconciling', async () => {
      this.assertAlive('while starting');
      return this.output().includes(marker) ? true : undefined;
    }, timeoutMs, 50);
    return Date.now() - this.startedAt;
  }

  async httpPort(): Promise<number> {
    return waitFor('the operator HTTP port', async () => {
      const port = /"httpPort":(\d+)/.exec(this.output())?.[1];
      return port ? Number(port) : undefined;
    }, 30_000, 50);
  }

  /** The sum of a Prometheus counter (all label sets matching `labels`) from /metrics. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${await this.httpPort()}/metrics`)).text();
    let total = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) total += Number(line.split(' ').pop());
    }
    return total;
  }

  /** SIGKILL: no cleanup, no lease release, as a crash. */
  async kill(): Promise<void> {
    this.expectedExit = true;
    await this.process.kill();
  }

  /** SIGTERM and wait (graceful stop). */
  async stop(): Promise<void> {
    this.expectedExit = true;
    await this.process.stop(15_000);
  }

  pause(): void {
    if (this.pid) process.kill(this.pid, 'SIGSTOP');
  }

  resume(): void {
    if (this.pid) process.kill(this.pid, 'SIGCONT');
  }

  /** Keeps checking that the process is alive for `ms`. */
  async stayAlive(ms: number, context: string): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      this.assertAlive(context);
      await sleep(Math.min(200, Math.max(0, until - Date.now())));
    }
    this.assertAlive(context);
  }
}
