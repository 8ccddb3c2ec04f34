// Prometheus metrics of the operator, served on /metrics. The metric objects are exported so that
// every part of the operator (Vault and KES clients included) records into the same registry.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'kmsstack_process_' });

let scrapes = 0;
let scraping: number | undefined;

/**
 * The text of /metrics. While it is built, scrapeInProgress() names this scrape, so gauges that derive
 * their values from one costly snapshot (every KMSDeployment's certificates) take it once, not once each.
 */
export async function scrapeMetrics(): Promise<string> {
  const scrape = ++scrapes;
  scraping = scrape;
  try {
    return await registry.metrics();
  } finally {
    if (scraping === scrape) scraping = undefined;
  }
}

/** The scrape being built now, or undefined (a gauge read on its own, as tests do, takes its own snapshot). */
export function scrapeInProgress(): number | undefined {
  return scraping;
}

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export const reconcileTotal = new Counter({
  name: 'kmsstack_reconcile_total',
  help: 'Reconciles by controller and result (success, requeue, error, timeout, terminal, skipped).',
  labelNames: ['controller', 'result'] as const,
  registers: [registry],
});

export const reconcileDuration = new Histogram({
  name: 'kmsstack_reconcile_duration_seconds',
  help: 'Duration of one reconcile.',
  labelNames: ['controller'] as const,
  buckets: latencyBuckets,
  registers: [registry],
});

export const workqueueDepth = new Gauge({
  name: 'kmsstack_workqueue_depth',
  help: 'Keys waiting in the work queue (not counting delayed keys and keys in flight).',
  labelNames: ['name'] as const,
  registers: [registry],
});

export const workqueueAdds = new Counter({
  name: 'kmsstack_workqueue_adds_total',
  help: 'Keys added to the work queue (de-duplicated adds are not counted).',
  labelNames: ['name'] as const,
  registers: [registry],
});

export const workqueueWait = new Histogram({
  name: 'kmsstack_workqueue_queue_duration_seconds',
  help: 'Time a key waited in the queue before a worker took it.',
  labelNames: ['name'] as const,
  buckets: latencyBuckets,
  registers: [registry],
});

export const workqueueRetries = new Counter({
  name: 'kmsstack_workqueue_retries_total',
  help: 'Keys re-queued with per-key backoff after an error.',
  labelNames: ['name'] as const,
  registers: [registry],
});

export const kubeRequests = new Counter({
  name: 'kmsstack_kube_requests_total',
  help: 'Requests to the Kubernetes API by verb, resource and HTTP status code (0 = no response).',
  labelNames: ['verb', 'resource', 'code'] as const,
  registers: [registry],
});

export const kubeRequestDuration = new Histogram({
  name: 'kmsstack_kube_request_duration_seconds',
  help: 'Duration of requests to the Kubernetes API.',
  labelNames: ['verb', 'resource'] as const,
  buckets: latencyBuckets,
  registers: [registry],
});

export const vaultRequests = new Counter({
  name: 'kmsstack_vault_requests_total',
  help: 'Requests to Vault by operation and HTTP status code (0 = no response).',
  labelNames: ['operation', 'code'] as const,
  registers: [registry],
});

export const vaultRequestDuration = new Histogram({
  name: 'kmsstack_vault_request_duration_seconds',
  help: 'Duration of requests to Vault.',
  labelNames: ['operation'] as const,
  buckets: latencyBuckets,
  registers: [registry],
});

export const vaultRequestErrors = new Counter({
  name: 'kmsstack_vault_request_errors_total',
  help:
    'Failed Vault requests by operation and reason (Unreachable, Sealed, PermissionDenied, AuthFailed, ...), per attempt.',
  labelNames: ['operation', 'reason'] as const,
  registers: [registry],
});

export const kesRequests = new Counter({
  name: 'kmsstack_kes_requests_total',
  help: 'Requests to KES by operation and HTTP status code (0 = no response).',
  labelNames: ['operation', 'code'] as const,
  registers: [registry],
});

export const kesRequestDuration = new Histogram({
  name: 'kmsstack_kes_request_duration_seconds',
  help: 'Duration of requests to KES.',
  labelNames: ['operation'] as const,
  buckets: latencyBuckets,
  registers: [registry],
});

export const kesRequestErrors = new Counter({
  name: 'kmsstack_kes_request_errors_total',
  help: 'Failed KES requests by operation and reason (PolicyDenied, KeyNotFound, KeystoreError, Unreachable, ...).',
  labelNames: ['operation', 'reason'] as const,
  registers: [registry],
});

export const watchRestarts = new Counter({
  name: 'kmsstack_watch_restarts_total',
  help: 'Watches restarted after an error, by resource.',
  labelNames: ['resource'] as const,
  registers: [registry],
});

export const leaderGauge = new Gauge({
  name: 'kmsstack_leader',
  help: '1 while this process holds the leader election lease.',
  labelNames: ['lease'] as const,
  registers: [registry],
});

export const eventsEmitted = new Counter({
  name: 'kmsstack_events_total',
  help: 'Kubernetes Events emitted, by type and reason (de-duplicated events are not counted).',
  labelNames: ['type', 'reason'] as const,
  registers: [registry],
});
