// Name resolution for the node agent's Pods, written as a per-Pod /etc/hosts instead of cluster DNS: every
// Service name (`svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`) resolves to the addresses of its
// ready endpoints (from the real EndpointSlice controller; there is no ClusterIP and no kube-proxy), and
// every endpoint with a hostname (a StatefulSet Pod under its headless Service) has its per-pod name
// `host.svc.ns.svc.cluster.local` (and the shorter forms). What CoreDNS would answer, minus SRV and search.
import type * as k8s from '@kubernetes/client-node';
import { NODE_GATEWAY } from './network.ts';
import type { PodRuntime } from './pod.ts';

const DOMAIN = 'cluster.local';

/** The name forms a client in `fromNamespace` can use for `name` in `namespace` (the resolv.conf search list). */
function forms(name: string, namespace: string, fromNamespace: string): string[] {
  const full = [`${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.${DOMAIN}`];
  return namespace === fromNamespace ? [name, ...full] : full;
}

interface Entry {
  namespace: string;
  /** The name relative to the namespace: `svc` or `host.svc`. */
  name: string;
  addresses: string[];
}

function entries(services: k8s.V1Service[], slices: k8s.V1EndpointSlice[]): Entry[] {
  const result: Entry[] = [];
  // default/kubernetes lists the API server's loopback address; Pods reach it at the gateway instead.
  const known = new Set(services.map((s) => `${s.metadata!.namespace}/${s.metadata!.name}`).filter((key) => key !== 'default/kubernetes'));
  const byService = new Map<string, { ready: Set<string>; hosts: Map<string, Set<string>> }>();
  for (const slice of slices) {
    const service = slice.metadata?.labels?.['kubernetes.io/service-name'];
    const key = `${slice.metadata!.namespace}/${service}`;
    if (!service || !known.has(key)) continue;
    const entry = byService.get(key) ?? { ready: new Set<string>(), hosts: new Map<string, Set<string>>() };
    byService.set(key, entry);
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.conditions?.ready === false) continue;
      for (const address of endpoint.addresses) {
        entry.ready.add(address);
        if (endpoint.hostname) entry.hosts.set(endpoint.hostname, (entry.hosts.get(endpoint.hostname) ?? new Set()).add(address));
      }
    }
  }
  for (const [key, { ready, hosts }] of byService) {
    const [namespace, service] = key.split('/') as [string, string];
    if (ready.size) result.push({ namespace, name: service, addresses: [...ready].sort() });
    for (const [hostname, addresses] of hosts) result.push({ namespace, name: `${hostname}.${service}`, addresses: [...addresses].sort() });
  }
  return result;
}

/** The /etc/hosts content of every running Pod. */
export function hostsFiles(runtimes: PodRuntime[], services: k8s.V1Service[], slices: k8s.V1EndpointSlice[]): Map<PodRuntime, string> {
  const all = entries(services, slices);
  const files = new Map<PodRuntime, string>();
  for (const runtime of runtimes) {
    if (!runtime.podIP) continue;
    const pod = runtime.pod;
    const namespace = pod.metadata!.namespace!;
    const hostname = pod.spec?.hostname ?? pod.metadata!.name!;
    const own = pod.spec?.subdomain
      ? [`${hostname}.${pod.spec.subdomain}.${namespace}.svc.${DOMAIN}`, hostname]
      : [hostname];
    const lines = ['# written by the kmsstack node agent (test infrastructure): Services and Pods of the test cluster',
      '127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', `${runtime.podIP}\t${own.join(' ')}`,
      // The API server, reached through the node relay (network.ts), under the `kubernetes` Service's names.
      `${NODE_GATEWAY}\t${forms('kubernetes', 'default', namespace).join(' ')}`];
    for (const entry of all) {
      const names = forms(entry.name, entry.namespace, namespace).join(' ');
      for (const address of entry.addresses) lines.push(`${address}\t${names}`);
    }
    files.set(runtime, lines.join('\n') + '\n');
  }
  return files;
}

/**
 * Services the hosts-file resolution cannot serve faithfully: a port that differs from its target port (a
 * client of `svc:port` reaches the Pod's address on `port`, with no kube-proxy to translate it) or an
 * ExternalName. Reported once each as a Warning Event on the Service.
 */
export function serviceWarnings(services: k8s.V1Service[], slices: k8s.V1EndpointSlice[]): { service: k8s.V1Service; message: string }[] {
  const warnings: { service: k8s.V1Service; message: string }[] = [];
  for (const service of services) {
    const meta = service.metadata!;
    if (meta.namespace === 'default' && meta.name === 'kubernetes') continue;
    if (service.spec?.type === 'ExternalName') {
      warnings.push({ service, message: 'ExternalName Services are not resolved by the node agent' });
      continue;
    }
    const own = slices.filter((s) => s.metadata?.namespace === meta.namespace && s.metadata?.labels?.['kubernetes.io/service-name'] === meta.name);
    for (const port of service.spec?.ports ?? []) {
      const target = own.flatMap((s) => s.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? ''))?.port;
      if (target !== undefined && target !== port.port) {
        warnings.push({ service, message: `port ${port.port} targets ${target}: the node agent resolves Service names to Pod addresses, so clients reach port ${port.port} of the Pod, not ${target}` });
      }
    }
  }
  return warnings;
}
