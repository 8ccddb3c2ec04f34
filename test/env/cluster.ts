// A local test cluster: the control plane of startControlPlane() plus the real kube-controller-manager and
// kube-scheduler (built by `npm run testbin` from the same Kubernetes module), and the node agent
// (test/env/node-agent/) that runs the Pods bound to its Node as local processes. The controllers are the
// real ones: Deployments get ReplicaSets and Pods, StatefulSets get Pods and PVCs, EndpointSlices follow
// ready Pods, ownerReferences are garbage-collected. What the node agent emulates: docs/testing.md.
import { execFileSync } from 'node:child_process';
import { request } from 'node:https';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from './controlplane.ts';
import { NodeAgent, type NodeAgentOptions } from './node-agent/agent.ts';
import { NODE_GATEWAY } from './node-agent/network.ts';
import { issueClientCert, readPem } from './pki.ts';
import { ManagedProcess, freePorts, leftovers, stopOnce, testBinary, waitFor } from './process.ts';
import assert from 'node:assert/strict';

export interface Cluster extends ControlPlane {
  /** The node agent (one Node); its pods' addresses are on a bridge inside its own network namespace. */
  node: NodeAgent;
  clusterLogs: { controllerManager: string; scheduler: string; nodeAgent: string };
}

export interface ClusterOptions extends ControlPlaneOptions {
  node?: Partial<NodeAgentOptions>;
}

// Controllers that need a cloud provider; the rest ('*') run as in a kubeadm cluster.
const CLOUD_CONTROLLERS = ['-cloud-node-lifecycle-controller', '-node-route-controller', '-service-lb-controller'];

/** The one-line reason the cluster cannot run here (it makes network namespaces and mounts), or false. */
export function clusterUnavailable(): string | false {
  if (process.getuid?.() !== 0) return 'skipped: the local test cluster needs root (network namespaces, bind mounts, tmpfs volumes)';
  for (const tool of ['ip', 'unshare', 'nsenter', 'mount']) {
    try {
      execFileSync('which', [tool], { stdio: 'ignore' });
    } catch {
      return `skipped: the local test cluster needs ${tool} (iproute2, util-linux)`;
    }
  }
  return false;
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const started = Date.now();
  const controlPlane = await startControlPlane({ ...options, serviceAccountAdmission: true, apiServerAddresses: [NODE_GATEWAY] });
  const { pki, dir } = controlPlane;
  const clientKubeconfig = (name: string, commonName: string) => {
    const { cert, key } = issueClientCert(pki, name, commonName);
    return controlPlane.writeKubeconfig(name, commonName, {
      'client-certificate-data': Buffer.from(readPem(cert)).toString('base64'),
      'client-key-data': Buffer.from(readPem(key)).toString('base64'),
    });
  };
  const cmKubeconfig = clientKubeconfig('controller-manager', 'system:kube-controller-manager');
  const schedulerKubeconfig = clientKubeconfig('scheduler', 'system:kube-scheduler');
  const [cmPort, schedulerPort] = await freePorts(2);
  const clusterLogs = {
    controllerManager: join(dir, 'kube-controller-manager.log'),
    scheduler: join(dir, 'kube-scheduler.log'),
    nodeAgent: join(dir, 'node-agent.log'),
  };

  const controllerManager = new ManagedProcess('kube-controller-manager', testBinary('kube-controller-manager'), [
    `--kubeconfig=${cmKubeconfig}`, `--authentication-kubeconfig=${cmKubeconfig}`, `--authorization-kubeconfig=${cmKubeconfig}`,
    '--bind-address=127.0.0.1', `--secure-port=${cmPort}`, `--cert-dir=${join(dir, 'controller-manager-certs')}`,
    '--leader-elect=false', '--use-service-account-credentials',
    `--controllers=*,${CLOUD_CONTROLLERS.join(',')}`,
    `--service-account-private-key-file=${pki.serviceAccountKey}`, `--root-ca-file=${pki.caCert}`,
    `--cluster-signing-cert-file=${pki.caCert}`, `--cluster-signing-key-file=${pki.caKey}`,
    '--service-cluster-ip-range=10.0.0.0/24', '--allocate-node-cidrs=false',
    // A test notices a lost node agent within seconds, not the production five minutes.
    '--node-monitor-grace-period=20s', '--profiling=false', '--v=1',
  ], clusterLogs.controllerManager);
  const scheduler = new ManagedProcess('kube-scheduler', testBinary('kube-scheduler'), [
    `--kubeconfig=${schedulerKubeconfig}`, `--authentication-kubeconfig=${schedulerKubeconfig}`,
    `--authorization-kubeconfig=${schedulerKubeconfig}`,
    '--bind-address=127.0.0.1', `--secure-port=${schedulerPort}`, `--cert-dir=${join(dir, 'scheduler-certs')}`,
    '--leader-elect=false', '--profiling=false', '--v=1',
  ], clusterLogs.scheduler);

  const node = new NodeAgent({
    kubeConfig: controlPlane.kubeConfig,
    server: controlPlane.server,
    dir: join(dir, 'node'),
    logFile: clusterLogs.nodeAgent,
    caPem: controlPlane.caPem,
    ...options.node,
  });

  const stopControlPlane = controlPlane.stop;
  const stop = stopOnce(async (stopOptions: { keepLogs?: boolean } = {}) => {
    await node.stop();
    await Promise.all([controllerManager.stop(), scheduler.stop()]);
    if (stopOptions.keepLogs) console.error(`cluster logs kept: ${Object.values(clusterLogs).join(' ')}`);
    await stopControlPlane(stopOptions);
  });

  try {
    controllerManager.start();
    scheduler.start();
    const phase = async (name: string, work: Promise<unknown>) => {
      await work;
      if (process.env.KMSSTACK_CLUSTER_TIMING) console.error(`  ${name} after ${Date.now() - started} ms`);
    };
    await Promise.all([
      phase('kube-controller-manager', waitFor('kube-controller-manager /healthz', () => healthz(cmPort), 60_000, 100)),
      phase('kube-scheduler', waitFor('kube-scheduler /healthz', () => healthz(schedulerPort), 60_000, 100)),
      phase('node agent', node.start()),
    ]);
    // The ServiceAccount controller creates `default` in every namespace; Pods of the tests need it.
    await waitFor('the default ServiceAccount', async () => {
      await controlPlane.kubectl(['get', 'serviceaccount', 'default', '-n', 'default']);
      return true;
    }, 60_000, 100);
  } catch (err) {
    await stop({ keepLogs: true });
    throw err;
  }
  if (process.env.KMSSTACK_CLUSTER_TIMING) console.error(`cluster started in ${Date.now() - started} ms`);
  return { ...controlPlane, stop, node, clusterLogs };
}

/**
 * Names a loopback server of the test that the node agent forwards from the gateway (option
 * node.gatewayForwards) as a Service of the cluster: a Service without selector and an EndpointSlice on the
 * gateway address, as one names a server outside the cluster. Pods then reach it as `name.namespace.svc:port`.
 */
export async function gatewayService(cluster: Cluster, namespace: string, name: string, port: number): Promise<void> {
  if (!cluster.node.options.gatewayForwards.some((forward) => forward.port === port)) {
    throw new Error(`gatewayService ${namespace}/${name}: the node agent forwards no port ${port} (node.gatewayForwards)`);
  }
  const objects = [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ name: 'tcp', port, targetPort: port }] } },
    {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: `${name}-gateway`, namespace, labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'kmsstack-test' } },
      addressType: 'IPv4', ports: [{ name: 'tcp', port, protocol: 'TCP' }],
      endpoints: [{ addresses: [NODE_GATEWAY], conditions: { ready: true } }],
    },
  ];
  await cluster.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
}

function healthz(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    // The components serve a self-signed certificate; only the status is read.
    const req = request({ host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? true : undefined);
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * A loopback port that reaches a Service the way a client in the cluster would through kube-proxy: each new
 * connection goes to one of the Service's ready endpoints (from its EndpointSlices, followed every 200 ms),
 * round-robin. A connection an endpoint refuses (a Pod that just stopped, before its endpoint left the
 * slice) is tried on the next one; that is the only retry, and it happens before any byte reached a Pod.
 * `reroutes` lists those, for the test to report.
 */
export async function serviceForward(cluster: Cluster, namespace: string, service: string, port: number): Promise<{ port: number; reroutes: string[]; close(): Promise<void> }> {
  const discovery = cluster.kubeConfig.makeApiClient(k8s.DiscoveryV1Api);
  let ready: string[] = [];
  let next = 0;
  let stopped = false;
  const refresh = async () => {
    const slices = await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` });
    ready = slices.items.flatMap((slice) => (slice.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses)).sort();
  };
  await refresh();
  const poll = (async () => {
    while (!stopped) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      await refresh().catch(() => undefined); // a failed poll keeps the last list, as kube-proxy would
    }
  })();
  const reroutes: string[] = [];
  const forward = await cluster.node.network.portForward(() => {
    const start = next++ % Math.max(ready.length, 1);
    return [...ready.slice(start), ...ready.slice(0, start)];
  }, port, (address) => reroutes.push(`${new Date().toISOString()} ${address} refused a connection`));
  return {
    port: forward.port,
    reroutes,
    async close() {
      stopped = true;
      await poll;
      await forward.close();
    },
  };
}

/**
 * The `after` of a suite on the local cluster: stops it (or the e2e stack around it; logs kept with
 * KMSSTACK_KEEP_LOGS) and asserts that no process it started is left, naming `what` ran.
 */
export async function stopWithoutLeftovers(stack: { stop(options: { keepLogs?: boolean }): Promise<void> } | undefined, what = 'the cluster, its Pods and Vault'): Promise<void> {
  await stack?.stop({ keepLogs: Boolean(process.env.KMSSTACK_KEEP_LOGS) });
  assert.deepEqual(leftovers().processes, [], `every process of ${what} is gone`);
}
