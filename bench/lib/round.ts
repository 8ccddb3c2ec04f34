// One benchmark round for N KMSDeployments, on fresh servers: the operator (a separate process)
// converges N objects, idles for 30 s with every object annotated once (a reconcile with nothing to do), takes a burst of spec changes, is
// restarted; then the floor makes the same writes for N objects of its own. Prints as it goes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type KubeObject, resources } from '../../src/runtime/kube/resources.ts';
import { testLogger } from '../../test/support/logger.ts';
import { type BenchEnvironment, startEnvironment } from './environment.ts';
import { formatHeapSummary, summarizeHeapSnapshot } from './heap-snapshot.ts';
import { captureTemplates, Floor, type Template } from './floor.ts';
import { type FloorTransport, keepAliveTransport, operatorClientsTransport } from './floor-transport.ts';
import { type BuiltOperator, type MemoryDetail, OperatorProcess } from './operator-process.ts';
import { CpuMeter } from './procstat.ts';
import { total as sumOf } from '../../test/support/prom-text.ts';
import { type LatencySummary, mapPool, summarize } from './stats.ts';
import { benchKMSDeployment, ConvergenceWatch, objectName, tokenTTLPatch } from './workload.ts';
import { countWrites, settle, type WriteCount } from './writes.ts';

export const OPERATOR_NS = 'bench-operator';
export const FLOOR_NS = 'bench-floor';
export const FLOOR_CLIENTS_NS = 'bench-floor-clients';

export interface RoundOptions {
  n: number;
  workers: number;
  resyncPeriodMs: number;
  /** Concurrent creates and patches sent by the benchmark (the "users"). */
  clientConcurrency: number;
  workDir: string;
  cpuProfile: boolean;
  /** Writes and summarises a heap snapshot of the operator once the N objects converged. */
  heapSnapshot: boolean;
  log: (line: string) => void;
}

export type CpuUse = Record<string, { cpuSeconds: number; utilisation: number }>;

export interface Convergence {
  totalMs: number;
  latency: LatencySummary;
  writes: WriteCount;
  cpu: CpuUse;
}

export interface RoundResult {
  n: number;
  versions: string;
  idle: MemoryDetail;
  operator: Convergence & { settledAfterMs: number; reconciles: number };
  /** The floor: a plain keep-alive script. */
  floor: Convergence;
  /** The same writes through the operator's own Kubernetes and Vault clients. */
  floorOperatorClients: Convergence;
  steady: { windowMs: number; reconciles: number; writes: WriteCount };
  throughput: { changes: number; windowMs: number; reconciles: number; reconcilesPerSecond: number;
    latency: LatencySummary; cpu: CpuUse };
  restart: { readyMs: number; caughtUpMs: number; reconciles: number; depthWhenCaughtUp: number; writes: WriteCount };
  memory: { converged: MemoryDetail; restarted: MemoryDetail };
  cpuProfileDir?: string;
  /** Summary of the operator's heap snapshot with N converged (--heap-snapshot). */
  heapSummary?: string;
}

const silent = testLogger();
/** The steady-state window: long enough for the reconciles of 500 pokes to finish on 2 cores. */
const STEADY_WINDOW_MS = 30_000;
/** The annotation the steady state sets on every object: it reconciles each once, with nothing to change. */
const POKE_ANNOTATION = 'bench.kmsstack.io/poke';

export async function runRound(built: BuiltOperator, options: RoundOptions): Promise<RoundResult> {
  const env = await startEnvironment();
  try {
    return await new Round(env, built, options).run();
  } finally {
    await env.stop();
  }
}

class Round {
  private readonly names: string[];
  private readonly cpu: CpuMeter;
  private operatorPid = 0;

  constructor(
    private readonly env: BenchEnvironment,
    private readonly built: BuiltOperator,
    private readonly o: RoundOptions,
  ) {
    this.names = Array.from({ length: o.n }, (_, i) => objectName(i));
    // The benchmark's own process runs the watches and the floor script.
    this.cpu = new CpuMeter(() =>
      new Map([...env.serverPids(), ['bench', process.pid],
        ...(this.operatorPid ? [['operator', this.operatorPid] as [string, number]] : [])])
    );
  }

  async run(): Promise<RoundResult> {
    const { env, o } = this;
    await env.prepareNamespace(OPERATOR_NS);
    await env.prepareNamespace(FLOOR_NS);
    await env.prepareNamespace(FLOOR_CLIENTS_NS);
    const watch = new ConvergenceWatch(env.admin, OPERATOR_NS, silent);
    await watch.start();
    try {
      let operator = await this.startOperator('first', o.cpuProfile);
      await operator.waitReady();
      await sleep(3000);
      const idle = await operator.memoryDetail();
      o.log(`  operator idle with no KMSDeployment: ${describeMemory(idle)}`);

      const converged = await this.convergeOperator(operator, watch);
      const memoryAfter = await operator.memoryDetail();
      o.log(`  operator with ${o.n} converged: ${describeMemory(memoryAfter)}`);
      const heapSummary = o.heapSnapshot ? await this.heapSummary(operator) : undefined;
      // The floor copies the state the operator converged to (before the burst changes it).
      const templates = await captureTemplates(env.admin, env.vault, OPERATOR_NS, this.names);
      const steady = await this.steadyState(operator);
      const throughput = await this.burst(operator, watch);
      await settle(countWrites(env, OPERATOR_NS), 3000, 120_000);
      await operator.stop();

      const writes = countWrites(env, OPERATOR_NS);
      operator = await this.startOperator('restarted', false);
      const readyMs = await operator.waitReady();
      const caughtUp = await this.caughtUp(operator);
      await sleep(2000);
      const restart = { readyMs, caughtUpMs: caughtUp.atMs, reconciles: caughtUp.reconciles,
        depthWhenCaughtUp: caughtUp.depth, writes: writes() };
      const restarted = await operator.memoryDetail();
      o.log(`  restarted operator with ${o.n} converged: ${describeMemory(restarted)}`);
      o.log(
        `  restart: ready ${(readyMs / 1000).toFixed(2)} s, caught up ${
          (caughtUp.atMs / 1000).toFixed(2)
        } s (queue depth then ${caughtUp.depth}); writes ${restart.writes.kube} Kubernetes, ${restart.writes.vault} Vault (${restart.writes.lease} Lease)`,
      );
      await operator.stop();
      this.operatorPid = 0;

      const floor = await this.floor(templates, FLOOR_NS,
        keepAliveTransport(env.operatorClient.kubeConfig, env.vault.address, env.operatorVaultToken, o.workers));
      const floorOperatorClients = await this.floor(templates, FLOOR_CLIENTS_NS,
        operatorClientsTransport(env.operatorClient, env.vault.address, env.operatorVaultToken));
      return {
        n: o.n,
        versions: env.versions,
        idle,
        operator: converged,
        floor,
        floorOperatorClients,
        steady,
        throughput,
        restart,
        memory: { converged: memoryAfter, restarted },
        ...(o.cpuProfile ? { cpuProfileDir: join(o.workDir, `cpu-n${o.n}`) } : {}),
        ...(heapSummary ? { heapSummary } : {}),
      };
    } finally {
      await watch.stop();
    }
  }

  private async startOperator(label: string, cpuProfile: boolean): Promise<OperatorProcess> {
    const operator = await OperatorProcess.start(this.built, {
      kubeconfigPath: this.env.operatorKubeconfigPath,
      watchNamespace: OPERATOR_NS,
      resyncPeriod: `${this.o.resyncPeriodMs / 1000}s`,
      workers: this.o.workers,
      vaultAddress: this.env.vault.address,
      logFile: join(this.o.workDir, `operator-n${this.o.n}-${label}.log`),
      ...(cpuProfile ? { cpuProfileDir: join(this.o.workDir, `cpu-n${this.o.n}`) } : {}),
      ...(label === 'first' && this.o.heapSnapshot
        ? { heapSnapshotDir: join(this.o.workDir, `heap-n${this.o.n}`) }
        : {}),
    });
    this.operatorPid = operator.pid;
    return operator;
  }

  /** After the memory figures were read: the snapshot itself briefly takes memory and blocks the operator. */
  private async heapSummary(operator: OperatorProcess): Promise<string> {
    const file = await operator.heapSnapshot();
    const summary = `N = ${this.o.n}, ${
      formatHeapSummary(summarizeHeapSnapshot(JSON.parse(readFileSync(file, 'utf8'))))
    }`;
    this.o.log(summary);
    return summary;
  }

  /** Creates the N objects as a user would (clientConcurrency at a time); each is timed from its create. */
  private async create(namespace: string, watch: ConvergenceWatch,
    onCreated?: (created: KubeObject) => void): Promise<number>
  {
    const started = performance.now();
    await mapPool(this.names, this.o.clientConcurrency, async (name) => {
      const since = performance.now();
      const created = await this.env.admin.create(benchKMSDeployment(namespace, name, this.env.vault.address));
      watch.track(name, since, created.metadata.generation ?? 1);
      onCreated?.(created);
    });
    return started;
  }

  private async convergeOperator(operator: OperatorProcess, watch: ConvergenceWatch): Promise<RoundResult['operator']> {
    const { env, o } = this;
    const writes = countWrites(env, OPERATOR_NS);
    const cpu = this.cpu.start();
    const before = sumOf(await operator.metrics(), 'kmsstack_reconcile_total');
    const started = await this.create(OPERATOR_NS, watch);
    const { latenciesMs, lastAt } = await watch.waitAll(this.names, convergenceTimeoutMs(o.n));
    const cpuUse = cpu();
    const totalMs = lastAt - started;
    // Writes still in flight when the last status showed convergence (e.g. a final status update) count too.
    const settled = await settle(writes, 5000, 120_000);
    const reconciles = sumOf(await operator.metrics(), 'kmsstack_reconcile_total') - before;
    const result = { totalMs, latency: summarize(latenciesMs), writes: writes(), cpu: cpuUse,
      settledAfterMs: settled.settledAfterMs, reconciles };
    o.log(
      `  operator converged ${o.n} in ${(totalMs / 1000).toFixed(2)} s (p50 ${
        (result.latency.p50Ms / 1000).toFixed(2)
      } s, p95 ${
        (result.latency.p95Ms / 1000).toFixed(2)
      } s); ${reconciles} reconciles; writes ${result.writes.kube} Kubernetes, ${result.writes.vault} Vault`,
    );
    return result;
  }

  /**
   * 30 s with nothing changed that matters: at its start every object gets a new annotation, which
   * reconciles each once with nothing to do (the resync would too, but at the operator's default of 10 min
   * not within the window). Counts the reconciles and the operator's writes (target 0 and 0).
   */
  private async steadyState(operator: OperatorProcess): Promise<RoundResult['steady']> {
    const { env, o } = this;
    const before = sumOf(await operator.metrics(), 'kmsstack_reconcile_total');
    const writes = countWrites(env, OPERATOR_NS);
    const started = performance.now();
    await mapPool(this.names, o.clientConcurrency,
      (name) => this.mergePatch(name, { metadata: { annotations: { [POKE_ANNOTATION]: String(Date.now()) } } }));
    await sleep(Math.max(0, STEADY_WINDOW_MS - (performance.now() - started)));
    const result = { windowMs: STEADY_WINDOW_MS,
      reconciles: sumOf(await operator.metrics(), 'kmsstack_reconcile_total') - before, writes: writes() };
    o.log(
      `  steady state (${
        STEADY_WINDOW_MS / 1000
      } s, every object annotated once at its start): ${result.reconciles} reconciles, writes ${result.writes.kube} Kubernetes, ${result.writes.vault} Vault (${result.writes.lease} Lease)`,
    );
    return result;
  }

  /** A JSON merge patch of one of the benchmark's KMSDeployments, as the benchmark (not the operator). */
  private mergePatch(name: string, body: Record<string, unknown>): Promise<KubeObject> {
    return this.env.admin.request<KubeObject>('PATCH',
      `/apis/${resources.KMSDeployment.apiVersion}/namespaces/${OPERATOR_NS}/kmsdeployments/${name}`, {
      body,
      contentType: 'application/merge-patch+json',
      resource: 'kmsdeployments',
      verb: 'patch',
    });
  }

  /** Every object's spec changes at once; reconciles/s from the operator's counter until all converged again. */
  private async burst(operator: OperatorProcess, watch: ConvergenceWatch): Promise<RoundResult['throughput']> {
    const { o } = this;
    const before = sumOf(await operator.metrics(), 'kmsstack_reconcile_total');
    const cpu = this.cpu.start();
    const started = performance.now();
    await mapPool(this.names, o.clientConcurrency, async (name) => {
      const since = performance.now();
      const patched = await this.mergePatch(name, tokenTTLPatch(1));
      watch.track(name, since, patched.metadata.generation ?? 0);
    });
    const { latenciesMs, lastAt } = await watch.waitAll(this.names, convergenceTimeoutMs(o.n));
    const cpuUse = cpu();
    const windowMs = lastAt - started;
    // The counter moves when a reconcile returns, just after its status write showed convergence:
    // count over a window that ends a moment later, and divide by that same window.
    await sleep(250);
    const countedMs = performance.now() - started;
    const reconciles = sumOf(await operator.metrics(), 'kmsstack_reconcile_total') - before;
    const result = { changes: o.n, windowMs, reconciles, reconcilesPerSecond: reconciles / (countedMs / 1000),
      latency: summarize(latenciesMs), cpu: cpuUse };
    o.log(
      `  burst of ${o.n} spec changes: converged in ${(windowMs / 1000).toFixed(2)} s, ${reconciles} reconciles = ${
        result.reconcilesPerSecond.toFixed(1)
      }/s`,
    );
    return result;
  }

  /**
   * After a restart: every object reconciled once. Becoming leader adds all N keys at once; keys
   * are de-duplicated and requeues go to the back of the queue, so the first N reconciles are the N
   * objects. (Waiting for an empty queue would not do: when the operator cannot keep up with the
   * 10 s poll of N objects, the queue never empties.)
   */
  private async caughtUp(operator: OperatorProcess): Promise<{ atMs: number; reconciles: number; depth: number }> {
    const deadline = performance.now() + convergenceTimeoutMs(this.o.n);
    for (;;) {
      const progress = await operator.progress();
      if (progress.leader && progress.reconciles >= this.o.n) {
        return { atMs: performance.now() - operator.startedAt, reconciles: progress.reconciles, depth: progress.depth };
      }
      if (performance.now() > deadline) {
        throw new Error(`the restarted operator did not catch up: ${JSON.stringify(progress)}`);
      }
      // Every poll is a scrape of /metrics, whose per-KMSDeployment gauges read every object: polled every
      // 100 ms, as until session 9, the scrapes took 30 % of the restarted operator's time (its CPU profile).
      await sleep(500);
    }
  }

  private async floor(templates: Map<string, Template>, namespace: string,
    transport: FloorTransport): Promise<Convergence>
  {
    const { env, o } = this;
    const watch = new ConvergenceWatch(env.admin, namespace, silent);
    await watch.start();
    try {
      const floor = new Floor(transport, OPERATOR_NS, namespace);
      const writes = countWrites(env, namespace);
      const cpu = this.cpu.start();
      // Created objects wait in a plain in-memory queue for o.workers writers, as keys wait for the operator's workers.
      const queue: KubeObject[] = [];
      let creating = true;
      const waiting: Array<() => void> = [];
      const wakeAll = () => waiting.splice(0).forEach((wake) => wake());
      const writers = Array.from({ length: o.workers }, async () => {
        for (;;) {
          const next = queue.shift();
          if (next) {
            await floor.write(next, templates.get(next.metadata.name as string) as Template);
            continue;
          }
          if (!creating) return;
          await new Promise<void>((resolve) => waiting.push(resolve));
        }
      });
      const started = await this.create(namespace, watch, (created) => {
        queue.push(created);
        wakeAll();
      });
      creating = false;
      wakeAll();
      await Promise.all(writers);
      const { latenciesMs, lastAt } = await watch.waitAll(this.names, convergenceTimeoutMs(o.n));
      const result = { totalMs: lastAt - started, latency: summarize(latenciesMs), writes: writes(), cpu: cpu() };
      o.log(
        `  floor (${transport.name}) made the same writes for ${o.n} in ${(result.totalMs / 1000).toFixed(2)} s (p50 ${
          (result.latency.p50Ms / 1000).toFixed(2)
        } s); writes ${result.writes.kube} Kubernetes, ${result.writes.vault} Vault`,
      );
      return result;
    } finally {
      transport.close();
      await watch.stop();
    }
  }
}

function convergenceTimeoutMs(n: number): number {
  return Math.max(120_000, n * 1000);
}

export function describeMemory(m: MemoryDetail): string {
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `RSS ${mib(m.rssBytes)} (peak ${mib(m.peakBytes)}), JS heap used ${mib(m.heapUsedBytes)}, external ${
    mib(m.externalBytes)
  }, ${m.openFds} open descriptors`;
}
