// The node agent's network: one "node" network namespace holding a bridge, and one network namespace per
// Pod with a veth on that bridge and its own address. There is no default route anywhere, so a Pod reaches
// its own loopback and the other Pods' addresses and nothing else: no ClusterIP, no host, no internet.
// The agent itself lives in the host namespace; it reaches Pod addresses (probes, tests) through a relay
// process started inside the node namespace that answers on a Unix socket (relay.ts). The one way out of
// the node network is the API server: the relay listens on the gateway's port 443 (where Pods are told the
// `kubernetes` Service is) and passes the bytes, TLS untouched, through a Unix socket to the agent, which
// connects to the API server on loopback. A test may open more such doors (GatewayForward), each to one
// loopback port of its own (a test Vault), never to another address.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { ManagedProcess, isAlive, waitFor } from '../process.ts';

const execFileAsync = promisify(execFile);
const ip = (args: string[]) => execFileAsync('ip', args);

/** Every namespace of the agent is named `kmscl<pid>x<n>…`, so a crashed run's leftovers can be found and removed. */
const NAMESPACE_PREFIX = 'kmscl';
/** The bridge's address in every node network: the Node's InternalIP, the Pods' hostIP and the API server's address for Pods. */
export const NODE_GATEWAY = '10.244.0.1';
export const API_SERVER_PORT = 443;
let nodeCounter = 0;

/** Pods connecting to NODE_GATEWAY:port reach 127.0.0.1:upstreamPort on the host (TLS untouched). */
export interface GatewayForward {
  port: number;
  upstreamPort: number;
}

export interface ProbeRequest {
  /** http(s)://<pod address>:<port>/<path>, or tcp://<pod address>:<port> */
  url: string;
  timeoutMs: number;
  headers?: Record<string, string>;
}
export interface ProbeAnswer {
  status?: number;
  body?: string;
  error?: string;
}

/**
 * The host number (2-254) of the next Pod address: the first after `last` that is not in use, wrapping around,
 * as the host-local IPAM plugin of a real node allocates (round-robin from its last reserved IP). Handing the
 * address a Pod just freed to the next Pod instead (what this agent did first) made Pods that restart together
 * swap addresses while the other Pods' names still pointed at the old ones: MinIO reached store-minio-1 under
 * store-minio-2's name ("drive ID mismatch", "unexpected drive ordering") and took up to 90 s more to form its
 * cluster after a server pool was added.
 */
export function roundRobinHost(inUse: ReadonlySet<number>, last: number): number | undefined {
  for (let step = 1; step <= 253; step++) {
    const host = ((last - 2 + step) % 253 + 253) % 253 + 2;
    if (!inUse.has(host)) return host;
  }
  return undefined;
}

export class NodeNetwork {
  readonly namespace: string;
  /** The bridge's address: the Node's InternalIP and the Pods' hostIP. */
  readonly gateway: string;
  private readonly subnet = '10.244.0';
  /** Host numbers of the Pods' addresses in use, and the last one handed out (the gateway is .1). */
  private readonly inUse = new Set<number>();
  private lastReserved = 1;
  private relay: ManagedProcess | undefined;
  private readonly socket: string;
  private readonly forwards: Server[] = [];

  constructor(private readonly dir: string) {
    this.namespace = `${NAMESPACE_PREFIX}${process.pid}x${++nodeCounter}`;
    this.gateway = NODE_GATEWAY;
    this.socket = join(dir, 'relay.sock');
  }

  /** `apiServerPort`: the API server's loopback port, which Pods reach at NODE_GATEWAY:API_SERVER_PORT. */
  async start(logFile: string, apiServerPort: number, extra: GatewayForward[] = []): Promise<void> {
    await removeStaleNamespaces();
    await ip(['netns', 'add', this.namespace]);
    await ip(['-n', this.namespace, 'link', 'set', 'lo', 'up']);
    await ip(['-n', this.namespace, 'link', 'add', 'br0', 'type', 'bridge']);
    await ip(['-n', this.namespace, 'addr', 'add', `${this.gateway}/24`, 'dev', 'br0']);
    await ip(['-n', this.namespace, 'link', 'set', 'br0', 'up']);
    const forwards = [{ port: API_SERVER_PORT, upstreamPort: apiServerPort }, ...extra];
    const relayArgs: string[] = [];
    for (const { port, upstreamPort } of forwards) {
      if (!Number.isInteger(port) || port < 1 || port > 65535 || forwards.filter((f) => f.port === port).length > 1) {
        throw new Error(`gateway forward: port ${port} is not a free port number of the gateway`);
      }
      const socket = join(this.dir, `forward-${port}.sock`);
      this.forwards.push(createServer((pod) => {
        const upstream = connect(upstreamPort, '127.0.0.1');
        pod.pipe(upstream).pipe(pod);
        const close = () => {
          pod.destroy();
          upstream.destroy();
        };
        pod.on('error', close);
        upstream.on('error', close);
      }).listen(socket));
      relayArgs.push(`${this.gateway}:${port}=${socket}`);
    }
    this.relay = new ManagedProcess('node-agent relay', 'ip', [
      'netns', 'exec', this.namespace, process.execPath, join(import.meta.dirname, 'relay.ts'), this.socket, ...relayArgs,
    ], logFile).start();
    await waitFor('the node relay socket', async () => (existsSync(this.socket) ? true : undefined), 20_000, 100);
  }

  async stop(): Promise<void> {
    await this.relay?.stop(2000);
    await Promise.all(this.forwards.map((server) => new Promise((resolve) => server.close(resolve))));
    await ip(['netns', 'del', this.namespace]).catch(() => undefined);
  }

  /** Creates the Pod's namespace and veth, and returns its namespace name and address. */
  async addPod(): Promise<{ namespace: string; address: string }> {
    const host = this.nextFreeHost();
    const namespace = `${this.namespace}p${host}`;
    const address = `${this.subnet}.${host}`;
    await ip(['netns', 'add', namespace]);
    await ip(['-n', namespace, 'link', 'set', 'lo', 'up']);
    await ip(['-n', this.namespace, 'link', 'add', `veth${host}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', namespace]);
    await ip(['-n', this.namespace, 'link', 'set', `veth${host}`, 'master', 'br0', 'up']);
    await ip(['-n', namespace, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    await ip(['-n', namespace, 'link', 'set', 'eth0', 'up']);
    return { namespace, address };
  }

  async removePod(namespace: string, address: string): Promise<void> {
    await ip(['netns', 'del', namespace]).catch(() => undefined);
    this.inUse.delete(Number(address.split('.').pop()));
  }

  private nextFreeHost(): number {
    const host = roundRobinHost(this.inUse, this.lastReserved);
    if (host === undefined) throw new Error('the node network has no free address left (253 Pods)');
    this.inUse.add(host);
    this.lastReserved = host;
    return host;
  }

  /**
   * A loopback port of the host that tunnels each connection to `port` of a Pod (through the relay's HTTP
   * CONNECT), as `kubectl port-forward` would; for tests that speak a whole protocol to a Pod (S3). `to` is the
   * Pod's address, or a function giving the addresses to try for each new connection, in order (a Service's
   * ready endpoints, as kube-proxy would pick one): when the relay cannot connect to one, the next is tried.
   * That is safe because nothing of the client's bytes has left the host yet; each such re-route is passed
   * to `onReroute`. The client's connection is closed when no address accepts it.
   */
  async portForward(to: string | (() => string[]), port: number, onReroute?: (address: string) => void): Promise<{ port: number; close(): Promise<void> }> {
    const open = new Set<Socket>();
    const addresses = typeof to === 'string' ? () => [to] : to;
    const server = createServer((local) => {
      open.add(local);
      local.on('close', () => open.delete(local));
      local.on('error', () => local.destroy());
      void (async () => {
        for (const address of addresses()) {
          const remote = await this.tunnel(address, port);
          if (local.destroyed) return void remote?.destroy();
          if (!remote) {
            onReroute?.(address);
            continue;
          }
          open.add(remote);
          local.pipe(remote).pipe(local);
          local.on('error', () => remote.destroy());
          local.on('close', () => remote.destroy());
          remote.on('error', () => local.destroy());
          remote.on('close', () => local.destroy());
          return;
        }
        local.destroy();
      })();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      port: (server.address() as AddressInfo).port,
      close: () => new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
    };
  }

  /** A TCP connection to `address:port` of a Pod through the relay, or undefined when the relay could not open it. */
  private tunnel(address: string, port: number): Promise<Socket | undefined> {
    return new Promise((resolve) => {
      const tunnel = request({ socketPath: this.socket, method: 'CONNECT', path: `${address}:${port}` });
      tunnel.on('connect', (res, remote) => {
        if (res.statusCode === 200) return resolve(remote);
        remote.destroy();
        resolve(undefined);
      });
      tunnel.on('error', () => resolve(undefined));
      tunnel.end();
    });
  }

  /** One HTTP(S) GET or TCP connect from inside the node namespace (TLS is not verified, as the kubelet's probes). */
  probe(probe: ProbeRequest): Promise<ProbeAnswer> {
    return new Promise((resolve) => {
      const body = JSON.stringify(probe);
      const req = request({ socketPath: this.socket, method: 'POST', path: '/', timeout: probe.timeoutMs + 2000,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          try {
            resolve(JSON.parse(text) as ProbeAnswer);
          } catch {
            resolve({ error: `relay answered ${res.statusCode}` });
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error('relay timeout')));
      req.on('error', (err) => resolve({ error: err.message }));
      req.end(body);
    });
  }
}

/** Namespaces of agents whose test process is gone (killed before it could clean up). */
async function removeStaleNamespaces(): Promise<void> {
  if (!existsSync('/run/netns')) return;
  for (const name of readdirSync('/run/netns')) {
    const owner = new RegExp(`^${NAMESPACE_PREFIX}(\\d+)x`).exec(name)?.[1];
    if (!owner || isAlive(Number(owner))) continue;
    await ip(['netns', 'del', name]).catch(() => undefined);
  }
}
