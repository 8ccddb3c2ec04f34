// Shared plumbing of the test environment: the cached test binaries, free loopback ports, managed
// child processes with log files, temp dirs, and polling. Every process and temp dir made here is
// tracked so a suite can prove it left nothing behind.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Absolute path of a binary built by `npm run testbin`; fails with the command to run if it is missing. */
export function testBinary(name: string): string {
  try {
    return execFileSync('bash', [join(repoRoot, 'test/tools/testbin.sh'), '--which', name], { encoding: 'utf8' }).trim();
  } catch (err) {
    const stderr = (err as { stderr?: Buffer | string }).stderr?.toString().trim();
    throw new Error(stderr || `test binary ${name} is not available: run npm run testbin`);
  }
}

/** A free TCP port on 127.0.0.1 (the kernel picks it; racy only against unrelated processes). */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port;
}

/**
 * `count` different free ports. Each is held until all are picked: a port closed at once can come back from
 * the next pick (etcd and kube-apiserver were once handed the same one, and the API server could not bind).
 */
export async function freePorts(count: 1): Promise<[number]>;
export async function freePorts(count: 2): Promise<[number, number]>;
export async function freePorts(count: 3): Promise<[number, number, number]>;
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      server.unref();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.on('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
    }
    return servers.map((server) => {
      const address = server.address();
      if (typeof address !== 'object' || !address) throw new Error('no port');
      return address.port;
    });
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

const liveTempDirs = new Set<string>();
const liveProcesses = new Set<ManagedProcess>();

export function makeTempDir(purpose: string): string {
  const dir = mkdtempSync(join(tmpdir(), `kmsstack-${purpose}-`));
  liveTempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  liveTempDirs.delete(dir);
}

/** What this process started and has not cleaned up yet (empty after every stop()). */
export function leftovers(): { processes: string[]; tempDirs: string[] } {
  return {
    processes: [...liveProcesses].map((p) => `${p.name} (pid ${p.pid})`),
    tempDirs: [...liveTempDirs].filter((d) => existsSync(d)),
  };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);

  constructor(
    readonly name: string,
    readonly command: string,
    readonly args: string[],
    readonly logFile: string,
    readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the exit code (null after a signal) when the current run ends. */
  waitExit(): Promise<number | null> {
    return this.exited;
  }

  start(): this {
    const log = createWriteStream(this.logFile, { flags: 'a' });
    // setpriv --pdeathsig: the server dies with the test process even when that is killed outright
    // (a timeout, SIGKILL), so no orphaned etcd or Vault outlives a run.
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', this.command, ...this.args], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    this.child = child;
    liveProcesses.add(this);
    return this;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs = 5000): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (this.running) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    this.child = undefined;
    liveProcesses.delete(this);
  }

  /** Stops the process without grace, as a crash would. */
  async kill(): Promise<void> {
    if (this.child && this.running) this.child.kill('SIGKILL');
    await this.exited;
    this.child = undefined;
    liveProcesses.delete(this);
  }

  async restart(): Promise<void> {
    await this.stop();
    this.start();
  }
}

/** Polls `probe` until it returns a value other than undefined, or fails naming `what`. */
/** `stop` made safe to call twice (a failed start and the test's after() both stop): later calls return at once. */
export function stopOnce<A extends unknown[]>(stop: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  let stopped = false;
  return async (...args) => {
    if (stopped) return;
    stopped = true;
    await stop(...args);
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await sleep(intervalMs);
  }
}

/**
 * The status code of a GET of `url` (http, or https trusting `tls.ca` and checking the certificate for
 * `tls.servername` when the URL's host is an address, as through a port-forward); the body discarded,
 * 2 s without an answer fail.
 */
export function httpStatus(url: string, tls: string | { ca?: string; servername?: string } = {}): Promise<number> {
  const { ca, servername } = typeof tls === 'string' ? { ca: tls, servername: undefined } : tls;
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { ...(ca ? { ca } : {}), ...(servername ? { servername } : {}), timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
