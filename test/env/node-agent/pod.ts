// One Pod on the node agent: its network namespace and address, its volumes, and one local process per
// container started in a private mount and UTS namespace (volumes bind-mounted at their mountPath, a per-Pod
// /etc/hosts and /etc/resolv.conf), restarted as its restartPolicy says, probed, and stopped with the
// grace period on deletion. The runtime keeps what the kubelet would report; the agent writes it back.
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, normalize, relative } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { ManagedProcess, repoRoot } from '../process.ts';
import { containerEnv, containerProcess, type ProcessSpec } from './containers.ts';
import { API_SERVER_PORT, NODE_GATEWAY, type NodeNetwork } from './network.ts';
import { ProbeLoop, checkProbe } from './probes.ts';
import { NotYet, Refused, materializeVolumes } from './volumes.ts';

export interface PodHost {
  core: k8s.CoreV1Api;
  network: NodeNetwork;
  /** Creates a mount point missing on the host (remembered, removed when the agent stops). */
  ensureMountPoint(path: string, file: boolean): void;
  event(pod: k8s.V1Pod, type: 'Normal' | 'Warning', reason: string, message: string): void;
  /** The Pod's /etc/hosts from the Services the agent last saw (what cluster DNS would answer from the start). */
  hostsFor(runtime: PodRuntime): string | undefined;
}

interface ContainerRun {
  spec: k8s.V1Container;
  process?: ManagedProcess;
  restartCount: number;
  startedAt?: Date;
  ready: boolean;
  started: boolean;
  waiting?: { reason: string; message?: string };
  lastExit?: { exitCode: number; finishedAt: Date; reason: string };
  probes: ProbeLoop[];
}

/** Where each container's mount namespace sees the node directory (a mount point on the host, made once). */
const STAGE = '/.kmscl-node';
/** Where the checkout the operator's image maps to is staged, so a volume mounted over its parent (the chart's /tmp emptyDir, with a checkout under /tmp) cannot hide it. */
const CHECKOUT_STAGE = '/.kmscl-checkout';
const depth = (path: string) => normalize(path).split('/').filter(Boolean).length;
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const MAX_BACKOFF_MS = 10_000;

export class PodRuntime {
  pod: k8s.V1Pod;
  readonly dir: string;
  readonly hostsFile: string;
  podIP: string | undefined;
  /** Set when the agent cannot emulate something of this Pod: the Pod stays not ready, saying why. */
  refused: string | undefined;
  private netns: string | undefined;
  private pending: string | undefined;
  private readonly containers = new Map<string, ContainerRun>();
  private readonly launchers = new Map<string, { spec: ProcessSpec; env: Record<string, string> }>();
  private startTime = new Date();
  private terminating = false;
  private setupDone = false;

  constructor(private readonly host: PodHost, pod: k8s.V1Pod, private readonly nodeDir: string) {
    this.pod = pod;
    const meta = pod.metadata!;
    this.dir = join(nodeDir, 'pods', `${meta.namespace}_${meta.name}_${meta.uid}`);
    this.hostsFile = join(this.dir, 'hosts');
    for (const spec of pod.spec?.containers ?? []) this.containers.set(spec.name, { spec, restartCount: 0, ready: false, started: false, probes: [] });
  }

  get name(): string {
    return `${this.pod.metadata!.namespace}/${this.pod.metadata!.name}`;
  }

  /** The container's log file (stdout and stderr). */
  logFile(container: string): string {
    return join(this.dir, `${container}.log`);
  }

  pids(): number[] {
    return [...this.containers.values()].flatMap((c) => (c.process?.pid && c.process.running ? [c.process.pid] : []));
  }

  /** Prepares and starts the Pod; safe to call again while it waits for something (a Secret, a bound PVC). */
  async sync(): Promise<void> {
    if (this.setupDone || this.refused || this.terminating) return;
    try {
      this.checkSupported();
      mkdirSync(this.dir, { recursive: true });
      if (!this.netns) {
        const { namespace, address } = await this.host.network.addPod();
        this.netns = namespace;
        this.podIP = address;
        // The downward API (status.podIP) reads the address from the Pod the agent reports.
        this.pod.status = { ...this.pod.status, podIP: address };
        // Complete before the first process starts: a program that resolves a Service at start-up (KES logs in
        // to vault.vault.svc) would otherwise fail once and be restarted, which no cluster DNS causes.
        writeFileSync(this.hostsFile, this.host.hostsFor(this) ?? `127.0.0.1 localhost\n${address} ${this.pod.metadata!.name}\n`);
        writeFileSync(join(this.dir, 'resolv.conf'), '# no DNS server: names resolve through /etc/hosts only\nnameserver 127.0.0.1\n');
      }
      const volumes = await materializeVolumes({ core: this.host.core, pod: this.pod }, this.dir);
      const launches: { run: ContainerRun; spec: ProcessSpec; env: Record<string, string> }[] = [];
      for (const run of this.containers.values()) {
        const env = await containerEnv({ core: this.host.core, pod: this.pod }, run.spec);
        launches.push({ run, spec: containerProcess(run.spec), env });
      }
      for (const { run, spec, env } of launches) this.writeLauncher(run.spec, spec, volumes, env);
      this.pending = undefined;
      this.setupDone = true;
      for (const { run } of launches) this.launch(run);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof Refused) {
        this.refused = message;
        this.host.event(this.pod, 'Warning', 'NotEmulated', message);
      } else if (this.pending !== message) {
        this.pending = message;
        this.host.event(this.pod, 'Warning', err instanceof NotYet ? 'FailedMount' : 'FailedCreatePodSandBox', message);
      }
    }
  }

  private checkSupported(): void {
    const spec = this.pod.spec!;
    if (spec.hostNetwork || spec.hostPID || spec.hostIPC) throw new Refused('spec.hostNetwork/hostPID/hostIPC are not emulated by the node agent');
    if (spec.initContainers?.length) throw new Refused('spec.initContainers are not emulated by the node agent');
    if (spec.ephemeralContainers?.length) throw new Refused('spec.ephemeralContainers are not emulated by the node agent');
    for (const container of spec.containers) {
      const field = `container ${container.name}`;
      checkProbe(container.readinessProbe, `${field} readinessProbe`);
      checkProbe(container.livenessProbe, `${field} livenessProbe`);
      checkProbe(container.startupProbe, `${field} startupProbe`);
      if (container.ports?.some((p) => p.hostPort)) throw new Refused(`${field}: hostPort is not emulated by the node agent`);
      const { preStop, ...otherHooks } = container.lifecycle ?? {};
      if (Object.keys(otherHooks).length || (preStop && !preStop.sleep)) throw new Refused(`${field}: lifecycle hooks other than a preStop sleep are not emulated by the node agent`);
      if (container.volumeDevices?.length) throw new Refused(`${field}: volumeDevices are not emulated by the node agent`);
      containerProcess(container);
    }
  }

  /**
   * A shell script that mounts the volumes, /etc/hosts and /etc/resolv.conf, then execs the program. The
   * node directory (every source: the Pod's files, the PV disks) is first bound recursively at STAGE, so a
   * mountPath over the directory that holds it (say an emptyDir at /tmp) cannot hide the sources mounted
   * after it; mounts go shallowest first, as container runtimes order them.
   */
  private writeLauncher(container: k8s.V1Container, spec: ProcessSpec, volumes: Map<string, string>, env: Record<string, string>): void {
    this.host.ensureMountPoint(STAGE, false);
    const staged = (path: string) => (path.startsWith(this.nodeDir + '/') ? join(STAGE, relative(this.nodeDir, path)) : path);
    const lines = ['set -e', `hostname ${quote(this.pod.spec?.hostname ?? this.pod.metadata!.name!)}`, `mount --rbind ${quote(this.nodeDir)} ${STAGE}`];
    const runsCheckout = spec.cwd === repoRoot;
    if (runsCheckout) {
      this.host.ensureMountPoint(CHECKOUT_STAGE, false);
      lines.push(`mount --rbind ${quote(repoRoot)} ${CHECKOUT_STAGE}`);
    }
    const mounts = (container.volumeMounts ?? []).map((mount, i) => ({ mount, i })).sort((a, b) => depth(a.mount.mountPath) - depth(b.mount.mountPath));
    for (const { mount, i } of mounts) {
      const field = `container ${container.name} volumeMounts[${i}]`;
      const volumeDir = volumes.get(mount.name);
      if (!volumeDir) throw new Refused(`${field}: no volume named '${mount.name}'`);
      if (mount.subPathExpr) throw new Refused(`${field}: subPathExpr is not emulated by the node agent`);
      const target = normalize(mount.mountPath);
      if (!isAbsolute(target) || target === '/' || target === STAGE || /^\/(proc|sys|dev)(\/|$)/.test(target)) {
        throw new Refused(`${field}: mountPath '${mount.mountPath}' is not emulated by the node agent`);
      }
      const source = mount.subPath ? join(volumeDir, mount.subPath) : volumeDir;
      if (!source.startsWith(volumeDir)) throw new Refused(`${field}: subPath '${mount.subPath}' leaves the volume`);
      if (!existsSync(source)) mkdirSync(source, { recursive: true });
      this.host.ensureMountPoint(target, !statSync(source).isDirectory());
      lines.push(`mount --bind ${quote(staged(source))} ${quote(target)}`);
      if (mount.readOnly) lines.push(`mount -o remount,bind,ro ${quote(target)}`);
    }
    // The checkout (program and node binary) back at its path, over any volume that hid it.
    if (runsCheckout) lines.push(`mkdir -p ${quote(repoRoot)}`, `mount --rbind ${CHECKOUT_STAGE} ${quote(repoRoot)}`);
    lines.push(`mount --bind ${quote(staged(this.hostsFile))} /etc/hosts`, `mount --bind ${quote(staged(join(this.dir, 'resolv.conf')))} /etc/resolv.conf`);
    const cwd = container.workingDir ?? spec.cwd;
    lines.push(`cd ${quote(cwd)}`, 'exec "$@"');
    writeFileSync(join(this.dir, `${container.name}.sh`), lines.join('\n') + '\n');
    // The environment may hold Secret values: it stays in memory, never in a file.
    this.launchers.set(container.name, { spec, env });
  }

  private launch(run: ContainerRun): void {
    if (this.terminating) return;
    const launcher = this.launchers.get(run.spec.name)!;
    const env = {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root',
      HOSTNAME: this.pod.spec?.hostname ?? this.pod.metadata!.name!,
      // In-cluster clients find the API server here; the kubelet gives the `kubernetes` Service's ClusterIP,
      // which nothing serves in this cluster, so the gateway that forwards to the API server stands in.
      KUBERNETES_SERVICE_HOST: NODE_GATEWAY, KUBERNETES_SERVICE_PORT: String(API_SERVER_PORT), KUBERNETES_SERVICE_PORT_HTTPS: String(API_SERVER_PORT),
      ...launcher.env,
    };
    const process = new ManagedProcess(`${this.name}/${run.spec.name}`, 'ip', [
      'netns', 'exec', this.netns!, 'unshare', '--mount', '--uts', '--propagation', 'private', '--',
      'sh', join(this.dir, `${run.spec.name}.sh`), launcher.spec.file, ...launcher.spec.argv,
    ], this.logFile(run.spec.name), env).start();
    Object.assign(run, { process, startedAt: new Date(), waiting: undefined, ready: false, started: !run.spec.startupProbe });
    this.startProbes(run, process);
    void process.waitExit().then((code) => this.exited(run, process, code));
  }

  private startProbes(run: ContainerRun, process: ManagedProcess): void {
    const target = { podIP: this.podIP!, container: run.spec, pid: () => process.pid };
    const field = `container ${run.spec.name}`;
    const network = this.host.network;
    const afterStartup = () => {
      if (run.spec.readinessProbe) {
        run.probes.push(new ProbeLoop(network, run.spec.readinessProbe, target, `${field} readinessProbe`, (ok) => (run.ready = ok)).start());
      } else {
        run.ready = true;
      }
      if (run.spec.livenessProbe) {
        run.probes.push(new ProbeLoop(network, run.spec.livenessProbe, target, `${field} livenessProbe`, (ok) => {
          if (ok || this.terminating) return;
          this.host.event(this.pod, 'Warning', 'Unhealthy', `${field}: liveness probe failed; restarting`);
          void process.stop(this.graceMs());
        }).start());
      }
    };
    if (!run.spec.startupProbe) return afterStartup();
    run.probes.push(new ProbeLoop(network, run.spec.startupProbe, target, `${field} startupProbe`, (ok) => {
      if (!ok) return void process.stop(this.graceMs());
      run.started = true;
      afterStartup();
    }).start());
  }

  private stopProbes(run: ContainerRun): void {
    for (const probe of run.probes) probe.stop();
    run.probes = [];
  }

  private exited(run: ContainerRun, process: ManagedProcess, code: number | null): void {
    if (run.process !== process) return;
    this.stopProbes(run);
    run.ready = false;
    run.lastExit = { exitCode: code ?? 137, finishedAt: new Date(), reason: code === 0 ? 'Completed' : 'Error' };
    run.process = undefined;
    void process.stop(); // already exited: only forgets it (leftovers())
    if (this.terminating) return;
    const policy = this.pod.spec?.restartPolicy ?? 'Always';
    if (policy === 'Never' || (policy === 'OnFailure' && code === 0)) return;
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** run.restartCount);
    run.waiting = { reason: 'CrashLoopBackOff', message: `back-off ${delay / 1000}s restarting failed container ${run.spec.name}` };
    run.restartCount++;
    setTimeout(() => this.launch(run), delay).unref();
  }

  private graceMs(): number {
    const seconds = this.pod.metadata?.deletionGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
    return Math.min(seconds, 30) * 1000;
  }

  /** SIGTERM every container, SIGKILL after the grace period, then remove the network and volumes. */
  async terminate(): Promise<void> {
    this.terminating = true;
    const grace = this.graceMs();
    await Promise.all([...this.containers.values()].map(async (run) => {
      this.stopProbes(run);
      // A preStop sleep runs first and counts against the grace period, as with the kubelet.
      const preStopMs = Math.min(grace, (run.spec.lifecycle?.preStop?.sleep?.seconds ?? 0) * 1000);
      if (preStopMs > 0 && run.process) await new Promise((resolve) => setTimeout(resolve, preStopMs));
      await run.process?.stop(grace - preStopMs);
    }));
    if (this.netns) await this.host.network.removePod(this.netns, this.podIP!);
    this.netns = undefined;
    rmSync(join(this.dir, 'volumes'), { recursive: true, force: true });
  }

  /** The Pod status as the kubelet would report it now. */
  status(): k8s.V1PodStatus {
    const now = new Date();
    const runs = [...this.containers.values()];
    const allReady = !this.refused && runs.every((r) => r.ready);
    const allStarted = runs.every((r) => r.startedAt);
    const condition = (type: string, ok: boolean, reason?: string, message?: string): k8s.V1PodCondition => {
      const previous = this.pod.status?.conditions?.find((c) => c.type === type);
      const status = ok ? 'True' : 'False';
      const lastTransitionTime = previous?.status === status && previous.lastTransitionTime ? previous.lastTransitionTime : now;
      return { type, status, lastTransitionTime, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
    };
    const scheduled = this.pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const conditions = [
      ...(scheduled ? [scheduled] : []),
      condition('Initialized', true),
      condition('ContainersReady', allReady),
      condition('Ready', allReady),
      ...(this.refused ? [condition('NodeAgentEmulation', false, 'NotEmulated', this.refused)] : []),
    ];
    const containerStatuses: k8s.V1ContainerStatus[] = runs.map((run) => {
      const waiting = this.refused
        ? { reason: /image .* has no local program/.test(this.refused) ? 'ImageNotEmulated' : 'NotEmulated', message: this.refused }
        : run.waiting ?? (run.process ? undefined : { reason: 'ContainerCreating', ...(this.pending ? { message: this.pending } : {}) });
      return {
        name: run.spec.name, image: run.spec.image ?? '', imageID: '',
        ...(run.process?.pid ? { containerID: `kmscl://${run.process.pid}` } : {}),
        ready: run.ready, started: run.started && Boolean(run.process), restartCount: run.restartCount,
        state: waiting ? { waiting } : run.process
          ? { running: { startedAt: run.startedAt! } }
          : { terminated: { exitCode: run.lastExit?.exitCode ?? 0, reason: run.lastExit?.reason ?? 'Completed', finishedAt: run.lastExit?.finishedAt ?? now } },
        ...(run.lastExit && run.process ? { lastState: { terminated: { exitCode: run.lastExit.exitCode, reason: run.lastExit.reason, finishedAt: run.lastExit.finishedAt } } } : {}),
      };
    });
    const policy = this.pod.spec?.restartPolicy ?? 'Always';
    const allExited = allStarted && runs.every((r) => !r.process && !r.waiting);
    const phase = this.refused || !allStarted ? 'Pending'
      : allExited && policy !== 'Always' ? (runs.every((r) => r.lastExit?.exitCode === 0) ? 'Succeeded' : 'Failed')
      : 'Running';
    const gateway = this.host.network.gateway;
    return {
      phase, conditions, containerStatuses, startTime: this.startTime,
      hostIP: gateway, hostIPs: [{ ip: gateway }],
      ...(this.podIP ? { podIP: this.podIP, podIPs: [{ ip: this.podIP }] } : {}),
      qosClass: this.pod.status?.qosClass ?? 'BestEffort',
    };
  }
}
