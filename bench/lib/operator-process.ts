// The operator as users run it: `node --optimize-for-size --lite-mode dist/main.js` (OPERATOR_COMMAND) in a separate process (bundled from src/ into a
// temp dir as the image's build does, so the figures include no TypeScript loader), talking to the API server with its own
// ServiceAccount. Its RSS is read from /proc, its progress from its /metrics.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, makeTempDir, ManagedProcess, removeTempDir, repoRoot, waitFor } from '../../test/env/process.ts';
import { OPERATOR_NAMESPACE } from '../../test/support/operator.ts';
import { OPERATOR_NODE_FLAGS } from '../../test/support/operator-command.ts';
import { cpuSecondsOf, memoryOf, openDescriptorsOf } from './procstat.ts';
import { parseMetrics, type Sample, total as sumOf } from '../../test/support/prom-text.ts';

export interface BuiltOperator {
  mainJs: string;
  dir: string;
  remove(): void;
}

/** Bundles src/ exactly as `npm run build` does for the image (esbuild: dist/main.js and its lazily loaded chunks), into a temp dir without node_modules. */
export function buildOperator(extraEsbuildFlags: readonly string[] = []): BuiltOperator {
  const dir = makeTempDir('bench-operator');
  const mainJs = join(dir, 'dist', 'main.js');
  execFileSync('npm', ['run', 'build', '--', `--outdir=${join(dir, 'dist')}`, ...extraEsbuildFlags], { cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'] });
  // dist/main.js is ESM; like the image, the directory has the package.json and no node_modules.
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  if (!existsSync(mainJs)) throw new Error(`the build made no ${mainJs}`);
  return { mainJs, dir, remove: () => removeTempDir(dir) };
}

export interface OperatorOptions {
  kubeconfigPath: string;
  watchNamespace: string;
  resyncPeriod: string;
  workers: number;
  /** Directory for a V8 CPU profile written when the process exits (node --cpu-prof). */
  cpuProfileDir?: string;
  /** Directory for heap snapshots written on SIGUSR2 (node --heapsnapshot-signal). */
  heapSnapshotDir?: string;
  /** Node flags instead of the operator's own (OPERATOR_NODE_FLAGS), and more environment (bench/memory.ts compares them). */
  nodeFlags?: readonly string[];
  env?: Readonly<Record<string, string>>;
  logFile: string;
  /** The bench Vault: the operator contacts only listed servers. */
  vaultAddress: string;
}

export interface MemoryDetail {
  rssBytes: number;
  peakBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
  openFds: number;
}

export class OperatorProcess {
  private constructor(
    private readonly process: ManagedProcess,
    private readonly port: number,
    readonly startedAt: number,
    private readonly heapSnapshotDir?: string,
  ) {}

  static async start(built: BuiltOperator, options: OperatorOptions): Promise<OperatorProcess> {
    const port = await freePort();
    if (options.heapSnapshotDir) mkdirSync(options.heapSnapshotDir, { recursive: true }); // node does not create it
    const nodeFlags = [
      ...(options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : []),
      ...(options.heapSnapshotDir
        ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${options.heapSnapshotDir}`]
        : []),
      ...(options.nodeFlags ?? OPERATOR_NODE_FLAGS),
    ];
    const args = [
      ...nodeFlags,
      built.mainJs,
      `--kubeconfig=${options.kubeconfigPath}`,
      `--watch-namespaces=${options.watchNamespace}`,
      `--resync-period=${options.resyncPeriod}`,
      `--workers=${options.workers}`,
      `--http-address=127.0.0.1:${port}`,
      `--leader-election-namespace=${OPERATOR_NAMESPACE}`,
      `--vault-addresses=${options.vaultAddress}`,
      '--log-level=warn',
    ];
    const child = new ManagedProcess('kmsstack-operator', process.execPath, args, options.logFile, { ...process.env,
      ...options.env });
    const startedAt = performance.now();
    child.start();
    return new OperatorProcess(child, port, startedAt, options.heapSnapshotDir);
  }

  /**
   * A heap snapshot of the running operator (SIGUSR2; started with heapSnapshotDir). V8 writes it
   * synchronously on the main thread, so the file is complete once /metrics answers again.
   */
  async heapSnapshot(): Promise<string> {
    const dir = this.heapSnapshotDir;
    if (!dir) throw new Error('the operator was started without heapSnapshotDir');
    const before = new Set(heapSnapshots(dir));
    process.kill(this.pid, 'SIGUSR2');
    const file = await waitFor('the heap snapshot file', async () => heapSnapshots(dir).find((f) => !before.has(f)),
      60_000, 200);
    await waitFor('the operator after its heap snapshot',
      async () => ((await this.get('/readyz')).status === 200 ? true : undefined), 120_000, 200);
    return file;
  }

  get pid(): number {
    const pid = this.process.pid;
    if (pid === undefined) throw new Error('the operator process is not running');
    return pid;
  }

  async waitReady(timeoutMs = 60_000): Promise<number> {
    await waitFor('the operator /readyz', async () => ((await this.get('/readyz')).status === 200 ? true : undefined),
      timeoutMs, 50);
    return performance.now() - this.startedAt;
  }

  async metrics(): Promise<Sample[]> {
    const res = await this.get('/metrics');
    if (res.status !== 200) throw new Error(`operator /metrics answered ${res.status}`);
    return parseMetrics(res.text);
  }

  /** Reconciles finished (any result) and keys waiting, from /metrics. */
  async progress(): Promise<{ reconciles: number; depth: number; leader: boolean }> {
    const samples = await this.metrics();
    return {
      reconciles: sumOf(samples, 'kmsstack_reconcile_total'),
      depth: sumOf(samples, 'kmsstack_workqueue_depth'),
      leader: sumOf(samples, 'kmsstack_leader') > 0,
    };
  }

  memory(): { rssBytes: number; peakBytes: number } {
    return memoryOf(this.pid);
  }

  /** RSS and open descriptors from /proc, the JS heap and external memory from its process metrics. */
  async memoryDetail(): Promise<MemoryDetail> {
    const samples = await this.metrics();
    return {
      ...this.memory(),
      heapUsedBytes: sumOf(samples, 'kmsstack_process_nodejs_heap_size_used_bytes'),
      externalBytes: sumOf(samples, 'kmsstack_process_nodejs_external_memory_bytes'),
      openFds: openDescriptorsOf(this.pid),
    };
  }

  cpuSeconds(): number {
    return cpuSecondsOf(this.pid);
  }

  /** SIGTERM and wait for the graceful exit (which also writes the CPU profile, if asked for). */
  async stop(): Promise<void> {
    await this.process.stop(40_000);
  }

  private async get(path: string): Promise<{ status: number; text: string }> {
    const res = await fetch(`http://127.0.0.1:${this.port}${path}`, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, text: await res.text() };
  }
}

function heapSnapshots(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot')).map((f) => join(dir, f)) : [];
}

export function cpuProfiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f)) : [];
}
