// Per-KMSDeployment gauges in cert-manager's style, read at scrape time from the status the operator
// wrote (through the informer cache): nothing is kept per object between scrapes, so a deleted
// KMSDeployment's series disappear with it and the label set stays what the cluster holds.
import { Gauge } from 'prom-client';
import type { KubeObject } from '../../runtime/kube/resources.ts';
import { registry } from '../../runtime/metrics.ts';

type Source = () => readonly KubeObject[];
const sources = new Set<Source>();

interface StatusView {
  conditions?: { type?: unknown; status?: unknown }[];
  certificates?: { notAfter?: unknown; caNotAfter?: unknown };
  vault?: { secretIDExpiresAt?: unknown };
  kes?: { keys?: unknown };
}

/** Each object once (several managers in one process may cache the same one), with its status. */
function deployments(): { labels: { namespace: string; name: string }; status: StatusView }[] {
  const seen = new Map<string, { labels: { namespace: string; name: string }; status: StatusView }>();
  for (const source of sources) {
    for (const obj of source()) {
      const labels = { namespace: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '' };
      seen.set(`${labels.namespace}/${labels.name}`, { labels, status: ((obj as { status?: StatusView }).status ?? {}) as StatusView });
    }
  }
  return [...seen.values()];
}

function seconds(time: unknown): number | undefined {
  const ms = typeof time === 'string' ? Date.parse(time) : NaN;
  return Number.isNaN(ms) ? undefined : ms / 1000;
}

const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;

new Gauge({
  name: 'kmsstack_kmsdeployment_condition',
  help: 'Status of each condition of a KMSDeployment: 1 for the status it has, 0 for the other two.',
  labelNames: ['namespace', 'name', 'type', 'status'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const { labels, status } of deployments()) {
      for (const condition of status.conditions ?? []) {
        if (typeof condition.type !== 'string') continue;
        for (const value of CONDITION_STATUSES) this.set({ ...labels, type: condition.type, status: value }, condition.status === value ? 1 : 0);
      }
    }
  },
});

new Gauge({
  name: 'kmsstack_kmsdeployment_certificate_expiration_timestamp_seconds',
  help: 'When a certificate of a KMSDeployment expires (Unix time): certificate="ca" its CA, "leaf" the earliest of the KES server and client certificates.',
  labelNames: ['namespace', 'name', 'certificate'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const { labels, status } of deployments()) {
      const ca = seconds(status.certificates?.caNotAfter);
      const leaf = seconds(status.certificates?.notAfter);
      if (ca !== undefined) this.set({ ...labels, certificate: 'ca' }, ca);
      if (leaf !== undefined) this.set({ ...labels, certificate: 'leaf' }, leaf);
    }
  },
});

new Gauge({
  name: 'kmsstack_kmsdeployment_secret_id_expiration_timestamp_seconds',
  help: "When the AppRole secret-id KES holds expires (Unix time).",
  labelNames: ['namespace', 'name'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const { labels, status } of deployments()) {
      const expiry = seconds(status.vault?.secretIDExpiresAt);
      if (expiry !== undefined) this.set(labels, expiry);
    }
  },
});

new Gauge({
  name: 'kmsstack_kmsdeployment_master_keys',
  help: 'Master keys the operator created or adopted for a KMSDeployment (status.kes.keys).',
  labelNames: ['namespace', 'name'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const { labels, status } of deployments()) {
      if (Array.isArray(status.kes?.keys)) this.set(labels, status.kes.keys.length);
    }
  },
});

/** Adds the KMSDeployments `source` lists to the gauges; returns the function that removes them. */
export function exportStatusMetrics(source: Source): () => void {
  sources.add(source);
  return () => void sources.delete(source);
}
