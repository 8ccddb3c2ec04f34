// The node agent: test infrastructure that stands in for a kubelet (docs/testing.md, "The local cluster").
// It registers one Node (Ready, with capacity) and renews its Lease, runs the Pods the scheduler binds to it
// (pod.ts), writes their status back so the real controllers compute workload status, provisions a
// directory PV for each pending claim of its StorageClass (and grows it when the claim asks for more,
// resizer.ts), and keeps every Pod's /etc/hosts in step with the
// Services' ready endpoints (hosts.ts). It polls the API server, which keeps it simple and is fast enough.
import { appendFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { mountDisk, mountedDisks, quantityBytes, unmountDisk } from './disks.ts';
import { hostsFiles, serviceWarnings } from './hosts.ts';
import { ensureMountPoint, removeMountPoints } from './mountpoints.ts';
import { NodeNetwork, type GatewayForward, type ProbeAnswer } from './network.ts';
import { PodRuntime, type PodHost } from './pod.ts';
import { resizeClaims } from './resizer.ts';

export interface NodeAgentOptions {
  kubeConfig: k8s.KubeConfig;
  server: string;
  caPem: string;
  dir: string;
  logFile: string;
  nodeName: string;
  storageClass: string;
  capacity: { cpu: string; memory: string; pods: string };
  syncIntervalMs: number;
  /**
   * Loopback servers of the test (e.g. a test Vault) that Pods reach at NODE_GATEWAY:<port>, the way they
   * reach the API server; a selector-less Service with an EndpointSlice on the gateway address names them.
   */
  gatewayForwards: GatewayForward[];
}

export const PROVISIONER = 'kmsstack.io/test-node-agent';
const code = (err: unknown) => (err as { code?: number }).code;
const ignore = (...codes: number[]) => (err: unknown) => {
  if (!codes.includes(code(err) ?? 0)) throw err;
};

export class NodeAgent {
  readonly options: NodeAgentOptions;
  readonly network: NodeNetwork;
  private readonly core: k8s.CoreV1Api;
  private readonly storage: k8s.StorageV1Api;
  private readonly runtimes = new Map<string, PodRuntime>();
  private readonly written = new Map<string, string>();
  private readonly reported = new Set<string>();
  private readonly provisioned = new Set<string>();
  /** The Services and EndpointSlices of the last hosts refresh, for the first /etc/hosts of a new Pod. */
  private seen: { services: k8s.V1Service[]; slices: k8s.V1EndpointSlice[] } = { services: [], slices: [] };
  /** Pods stopped after their deletion, by uid (never started again from a stale list). */
  private readonly terminated = new Set<string>();
  /** Pods being stopped after their deletion, by uid. */
  private readonly terminations = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private syncing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(options: Partial<NodeAgentOptions> & Pick<NodeAgentOptions, 'kubeConfig' | 'server' | 'caPem' | 'dir' | 'logFile'>) {
    this.options = {
      nodeName: 'kmscl-node', storageClass: 'local', capacity: { cpu: '8', memory: '16Gi', pods: '110' }, syncIntervalMs: 500, gatewayForwards: [],
      ...options,
    };
    mkdirSync(this.options.dir, { recursive: true });
    this.network = new NodeNetwork(this.options.dir);
    this.core = this.options.kubeConfig.makeApiClient(k8s.CoreV1Api);
    this.storage = this.options.kubeConfig.makeApiClient(k8s.StorageV1Api);
  }

  async start(): Promise<void> {
    for (const path of mountedDisks('stale')) await unmountDisk(path);
    removeMountPoints(); // left by a run that was killed, when no other agent uses them
    await this.network.start(this.options.logFile, Number(new URL(this.options.server).port), this.options.gatewayForwards);
    await this.registerStorageClass();
    await this.registerNode();
    await this.renewLease();
    this.heartbeat = setInterval(() => void this.renewLease().catch((err: unknown) => this.log(`lease: ${String(err)}`)), 5000);
    const loop = () => {
      this.syncing = this.sync().catch((err: unknown) => this.log(`sync: ${err instanceof Error ? err.message : String(err)}`));
      void this.syncing.then(() => {
        if (!this.stopped) this.timer = setTimeout(loop, this.options.syncIntervalMs);
      });
    };
    loop();
  }

  /** Stops every Pod (SIGTERM, then SIGKILL), removes the network namespaces and the mount points it created. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    await this.syncing;
    await Promise.all([...this.terminations.values()]);
    await Promise.all([...this.runtimes.values()].map((r) => r.terminate()));
    this.runtimes.clear();
    await this.network.stop();
    for (const path of mountedDisks('own')) await unmountDisk(path);
    removeMountPoints();
  }

  /** The Pods the agent runs now: name, address and the pids of their running containers. */
  pods(): { namespace: string; name: string; podIP?: string; pids: number[]; refused?: string }[] {
    return [...this.runtimes.values()].map((r) => ({
      namespace: r.pod.metadata!.namespace!, name: r.pod.metadata!.name!, pids: r.pids(),
      ...(r.podIP ? { podIP: r.podIP } : {}), ...(r.refused ? { refused: r.refused } : {}),
    }));
  }

  /** The log file of a container of a Pod the agent runs (the agent has no `kubectl logs` endpoint). */
  logFile(namespace: string, pod: string, container: string): string | undefined {
    return [...this.runtimes.values()].find((r) => r.pod.metadata!.namespace === namespace && r.pod.metadata!.name === pod)?.logFile(container);
  }

  /** A GET from inside the node network (HTTPS unverified), as another Pod would send it; for tests. */
  httpGet(url: string, timeoutMs = 5000): Promise<ProbeAnswer> {
    return this.network.probe({ url, timeoutMs });
  }

  private log(line: string): void {
    appendFileSync(this.options.logFile, `${new Date().toISOString()} ${line}\n`);
  }

  private host(): PodHost {
    return {
      core: this.core,
      network: this.network,
      ensureMountPoint,
      event: (pod, type, reason, message) => this.event(pod, type, reason, message),
      hostsFor: (runtime) => hostsFiles([runtime], this.seen.services, this.seen.slices).get(runtime),
    };
  }

  private event(object: k8s.V1Pod | k8s.V1Service, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const meta = object.metadata!;
    const kind = 'spec' in object && object.spec && 'containers' in object.spec ? 'Pod' : 'Service';
    this.log(`${type} ${reason} ${kind} ${meta.namespace}/${meta.name}: ${message}`);
    const now = new Date();
    void this.core.createNamespacedEvent({
      namespace: meta.namespace!,
      body: {
        metadata: { generateName: `${meta.name}.`, namespace: meta.namespace! },
        involvedObject: { kind, apiVersion: 'v1', name: meta.name!, namespace: meta.namespace!, uid: meta.uid! },
        type, reason, message, firstTimestamp: now, lastTimestamp: now, count: 1,
        source: { component: 'kmsstack-node-agent', host: this.options.nodeName },
        reportingComponent: 'kmsstack-node-agent', reportingInstance: this.options.nodeName,
      },
    }).catch((err: unknown) => this.log(`event: ${String(err)}`));
  }

  private async registerStorageClass(): Promise<void> {
    await this.storage.createStorageClass({
      body: {
        metadata: { name: this.options.storageClass, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
        provisioner: PROVISIONER, reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate',
        // The agent grows its volumes (resizer.ts), as a CSI driver with the expansion capability does.
        allowVolumeExpansion: true,
      },
    }).catch(ignore(409));
  }

  private async registerNode(): Promise<void> {
    const name = this.options.nodeName;
    const { capacity } = this.options;
    await this.core.createNode({ body: { metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } } } }).catch(ignore(409));
    const node = await this.core.readNode({ name });
    const now = new Date();
    node.status = {
      capacity, allocatable: capacity,
      addresses: [{ type: 'InternalIP', address: this.network.gateway }, { type: 'Hostname', address: name }],
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kmsstack node agent is ready', lastHeartbeatTime: now, lastTransitionTime: now }],
      nodeInfo: {
        architecture: process.arch === 'x64' ? 'amd64' : process.arch, operatingSystem: 'linux', kernelVersion: '', osImage: 'kmsstack node agent',
        containerRuntimeVersion: 'kmscl://local-processes', kubeletVersion: 'v1.36.3', kubeProxyVersion: '', machineID: '', systemUUID: '', bootID: '',
      },
    };
    await this.core.replaceNodeStatus({ name, body: node });
  }

  private async renewLease(): Promise<void> {
    const coordination = this.options.kubeConfig.makeApiClient(k8s.CoordinationV1Api);
    const name = this.options.nodeName;
    const namespace = 'kube-node-lease';
    const spec = { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new k8s.V1MicroTime() };
    try {
      const lease = await coordination.readNamespacedLease({ name, namespace });
      lease.spec = { ...lease.spec, ...spec };
      await coordination.replaceNamespacedLease({ name, namespace, body: lease });
    } catch (err) {
      if (code(err) !== 404) throw err;
      await coordination.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec } }).catch(ignore(409));
    }
  }

  private async sync(): Promise<void> {
    const list = await this.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${this.options.nodeName}` });
    const seen = new Set<string>();
    for (const pod of list.items) {
      const uid = pod.metadata!.uid!;
      seen.add(uid);
      let runtime = this.runtimes.get(uid);
      if (!runtime) {
        if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
        // A list read before a background termination finished still shows that Pod: it is done with.
        if (this.terminated.has(uid)) continue;
        runtime = new PodRuntime(this.host(), pod, this.options.dir);
        this.runtimes.set(uid, runtime);
        this.log(`pod ${runtime.name} bound; starting`);
      }
      runtime.pod = { ...pod, status: { ...pod.status, ...(runtime.podIP ? { podIP: runtime.podIP } : {}) } };
      if (pod.metadata?.deletionTimestamp) {
        // In the background, as a kubelet does: a Pod's preStop hook and grace period must not hold up the
        // other Pods, nor the /etc/hosts updates that take the stopping Pod out of the others' names.
        if (!this.terminations.has(uid)) {
          this.terminations.set(uid, this.finishDeletion(uid, runtime, pod)
            .catch((err: unknown) => this.log(`terminate ${runtime.name}: ${String(err)}`))
            .finally(() => this.terminations.delete(uid)));
        }
        continue;
      }
      await runtime.sync();
      await this.writeStatus(uid, pod, runtime.status());
    }
    for (const [uid, runtime] of this.runtimes) {
      if (seen.has(uid)) continue;
      this.log(`pod ${runtime.name} is gone from the API; stopping its processes`);
      this.runtimes.delete(uid);
      this.written.delete(uid);
      await runtime.terminate();
    }
    await this.provisionVolumes();
    await this.refreshHosts();
  }

  private async finishDeletion(uid: string, runtime: PodRuntime, pod: k8s.V1Pod): Promise<void> {
    this.log(`pod ${runtime.name} deleted; stopping with grace`);
    await runtime.terminate();
    this.terminated.add(uid);
    this.runtimes.delete(uid);
    this.written.delete(uid);
    await this.core.deleteNamespacedPod({
      name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid } },
    }).catch((err: unknown) => this.log(`delete ${runtime.name}: ${String(err)}`));
  }

  private async writeStatus(uid: string, pod: k8s.V1Pod, status: k8s.V1PodStatus): Promise<void> {
    const text = JSON.stringify(status);
    if (this.written.get(uid) === text) return;
    try {
      await this.core.replaceNamespacedPodStatus({ name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, body: { ...pod, status } });
      this.written.set(uid, text);
    } catch (err) {
      // A conflict means a newer Pod: the next sync writes again.
      if (code(err) !== 409 && code(err) !== 404) throw err;
    }
  }

  /** Provisions a directory PV for each pending claim of the agent's StorageClass, grows the bound ones that ask for more, deletes released ones. */
  private async provisionVolumes(): Promise<void> {
    const claims = await this.core.listPersistentVolumeClaimForAllNamespaces();
    // Every StorageClass of this provisioner, as a CSI driver serves each class that names it (a test may add one,
    // e.g. the full example's fast-ssd).
    const classes = new Set((await this.storage.listStorageClass()).items.filter((c) => c.provisioner === PROVISIONER).map((c) => c.metadata!.name!));
    for (const claim of claims.items) {
      const meta = claim.metadata!;
      const className = claim.spec?.storageClassName;
      if (claim.status?.phase !== 'Pending' || !claim.spec || claim.spec.volumeName || !className || !classes.has(className)) continue;
      if (this.provisioned.has(meta.uid!)) continue;
      this.provisioned.add(meta.uid!);
      const path = join(this.options.dir, 'volumes', `${meta.namespace}_${meta.name}_${meta.uid}`);
      mkdirSync(path, { recursive: true });
      const request = claim.spec.resources?.requests?.storage ?? '1Gi';
      await mountDisk(path, quantityBytes(request) ?? 2 ** 30);
      await this.core.createPersistentVolume({
        body: {
          metadata: { name: `pvc-${meta.uid}`, annotations: { 'pv.kubernetes.io/provisioned-by': PROVISIONER } },
          spec: {
            capacity: { storage: request },
            accessModes: claim.spec.accessModes ?? ['ReadWriteOnce'],
            persistentVolumeReclaimPolicy: 'Delete', storageClassName: className,
            hostPath: { path, type: 'Directory' },
            claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: meta.namespace!, name: meta.name!, uid: meta.uid! },
          },
        },
      }).then(() => this.log(`provisioned PV pvc-${meta.uid} for ${meta.namespace}/${meta.name}`), ignore(409));
    }
    await resizeClaims({ core: this.core, storage: this.storage, provisioner: PROVISIONER, log: (line) => this.log(line) }, claims.items);
    const volumes = await this.core.listPersistentVolume();
    for (const volume of volumes.items) {
      if (volume.status?.phase !== 'Released' || volume.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'] !== PROVISIONER) continue;
      const path = volume.spec?.hostPath?.path;
      if (path?.startsWith(join(this.options.dir, 'volumes'))) {
        await unmountDisk(path);
        rmSync(path, { recursive: true, force: true });
      }
      await this.core.deletePersistentVolume({ name: volume.metadata.name! }).catch(ignore(404));
      this.log(`deleted released PV ${volume.metadata.name}`);
    }
  }

  private async refreshHosts(): Promise<void> {
    const discovery = this.options.kubeConfig.makeApiClient(k8s.DiscoveryV1Api);
    const [services, slices] = await Promise.all([this.core.listServiceForAllNamespaces(), discovery.listEndpointSliceForAllNamespaces()]);
    this.seen = { services: services.items, slices: slices.items };
    for (const { service, message } of serviceWarnings(services.items, slices.items)) {
      const key = `${service.metadata!.uid}:${message}`;
      if (this.reported.has(key)) continue;
      this.reported.add(key);
      this.event(service, 'Warning', 'NotEmulated', message);
    }
    const files = hostsFiles([...this.runtimes.values()], services.items, slices.items);
    for (const runtime of this.runtimes.values()) {
      const content = files.get(runtime);
      if (content === undefined || !existsSync(runtime.hostsFile)) continue;
      if (this.written.get(`hosts:${runtime.hostsFile}`) === content) continue;
      // Rewritten in place (same inode): the file is bind-mounted as the Pod's /etc/hosts.
      writeFileSync(runtime.hostsFile, content);
      this.written.set(`hosts:${runtime.hostsFile}`, content);
    }
  }
}
