// Container probes as the kubelet runs them: httpGet (HTTP and HTTPS, not verified), tcpSocket and exec, with
// initialDelaySeconds, periodSeconds, timeoutSeconds and success/failure thresholds. HTTP and TCP probes go
// through the node relay (the Pod's address is only reachable inside the node network namespace); exec
// runs the command inside the container's namespaces with nsenter.
import { execFile } from 'node:child_process';
import type * as k8s from '@kubernetes/client-node';
import type { NodeNetwork } from './network.ts';
import { Refused } from './volumes.ts';

export type ProbeKind = 'startup' | 'readiness' | 'liveness';

export interface ProbeTarget {
  podIP: string;
  container: k8s.V1Container;
  /** The pid of the container's process (for exec probes). */
  pid(): number | undefined;
}

/** Refuses a probe handler the agent cannot run (gRPC), at Pod start rather than at the first probe. */
export function checkProbe(probe: k8s.V1Probe | undefined, field: string): void {
  if (probe && !probe.httpGet && !probe.tcpSocket && !probe.exec) throw new Refused(`${field}: only httpGet, tcpSocket and exec probes are emulated`);
}

function portOf(container: k8s.V1Container, port: number | string, field: string): number {
  if (typeof port === 'number' || /^\d+$/.test(port)) return Number(port);
  const named = container.ports?.find((p) => p.name === port);
  if (!named) throw new Refused(`${field}: port '${port}' is not a named port of the container`);
  return named.containerPort;
}

async function runOnce(network: NodeNetwork, probe: k8s.V1Probe, target: ProbeTarget, field: string): Promise<boolean> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet) {
    const scheme = (probe.httpGet.scheme ?? 'HTTP').toLowerCase();
    const host = probe.httpGet.host ?? target.podIP;
    const port = portOf(target.container, probe.httpGet.port, field);
    const path = probe.httpGet.path ?? '/';
    const headers = Object.fromEntries((probe.httpGet.httpHeaders ?? []).map((h) => [h.name, h.value]));
    const answer = await network.probe({ url: `${scheme}://${host}:${port}${path.startsWith('/') ? path : `/${path}`}`, timeoutMs, headers });
    return answer.status !== undefined && answer.status >= 200 && answer.status < 400;
  }
  if (probe.tcpSocket) {
    const port = portOf(target.container, probe.tcpSocket.port, field);
    return (await network.probe({ url: `tcp://${probe.tcpSocket.host ?? target.podIP}:${port}`, timeoutMs })).status === 0;
  }
  const pid = target.pid();
  const command = probe.exec?.command ?? [];
  if (!pid || command.length === 0) return false;
  return new Promise((resolve) => {
    execFile('nsenter', ['--target', String(pid), '--mount', '--uts', '--net', '--', ...command], { timeout: timeoutMs }, (err) => resolve(!err));
  });
}

/** Runs one probe on its period until stopped; `onResult` gets the thresholded outcome each time it changes. */
export class ProbeLoop {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private successes = 0;
  private failures = 0;
  private state: boolean | undefined;

  constructor(
    private readonly network: NodeNetwork,
    private readonly probe: k8s.V1Probe,
    private readonly target: ProbeTarget,
    private readonly field: string,
    private readonly onResult: (ok: boolean) => void,
  ) {}

  start(): this {
    this.schedule((this.probe.initialDelaySeconds ?? 0) * 1000);
    return this;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), delayMs);
  }

  private async tick(): Promise<void> {
    let ok = false;
    try {
      ok = await runOnce(this.network, this.probe, this.target, this.field);
    } catch {
      ok = false;
    }
    if (this.stopped) return;
    if (ok) {
      this.successes++;
      this.failures = 0;
      if (this.state !== true && this.successes >= (this.probe.successThreshold ?? 1)) this.report(true);
    } else {
      this.failures++;
      this.successes = 0;
      if (this.state !== false && this.failures >= (this.probe.failureThreshold ?? 3)) this.report(false);
    }
    this.schedule((this.probe.periodSeconds ?? 10) * 1000);
  }

  private report(ok: boolean): void {
    this.state = ok;
    this.onResult(ok);
  }
}
