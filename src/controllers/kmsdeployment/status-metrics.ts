// Per-KMSDeployment gauges in cert-manager's style, read at scrape time from what the operator keeps
// anyway: the status it wrote and the Secrets it owns, through the informer cache. Nothing but the
// time of the last successful round trip is kept per object between scrapes, and that is dropped
// once its object is gone, so a deleted KMSDeployment's series disappear with it and the label set
// stays what the cluster holds (namespace, name, and a fixed set of condition/certificate values).
import { Gauge } from 'prom-client';
import type { KubeObject } from '../../runtime/kube/resources.ts';
import { registry, scrapeInProgress } from '../../runtime/metrics.ts';
import { type CredentialTimes, type DeploymentExpiries, deploymentExpiries, forgetCertificatesExcept,
  type SecretLookup } from './expiry-times.ts';

type Source = () => readonly KubeObject[];
const sources = new Map<Source, SecretLookup | undefined>();

interface StatusView {
  conditions?: { type?: unknown; status?: unknown }[];
  kes?: { keys?: unknown };
}

interface Deployment {
  labels: { namespace: string; name: string };
  uid: string | undefined;
  status: StatusView;
  expiries: DeploymentExpiries;
}

/** uid of a KMSDeployment → Unix seconds of its last successful EncryptionVerified round trip. */
const verifiedAt = new Map<string, number>();

/**
 * Each object once (several managers in one process may cache the same one), with its status and
 * credential times; read afresh by every gauge (the costly parts are memoised in expiry-times.ts).
 */
function deployments(): Deployment[] {
  const seen = new Map<string, Deployment>();
  const seenSecrets = new Set<string>();
  for (const [source, secret] of sources) {
    for (const obj of source()) {
      const labels = { namespace: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '' };
      const status = ((obj as { status?: StatusView }).status ?? {}) as StatusView;
      seen.set(`${labels.namespace}/${labels.name}`, { labels, uid: obj.metadata.uid, status,
        expiries: deploymentExpiries(obj, secret, seenSecrets) });
    }
  }
  const list = [...seen.values()];
  forgetCertificatesExcept(seenSecrets);
  if (sources.size > 0) {
    const live = new Set(list.map((d) => d.uid));
    for (const uid of verifiedAt.keys()) if (!live.has(uid)) verifiedAt.delete(uid);
  }
  return list;
}

/** The snapshot of the scrape in progress: the ten gauges below share it instead of taking ten. */
let snapshot: { scrape: number; list: Deployment[] } | undefined;

function deploymentsOfThisScrape(): Deployment[] {
  const scrape = scrapeInProgress();
  if (scrape === undefined) {
    snapshot = undefined;
    return deployments();
  }
  if (snapshot?.scrape !== scrape) {
    snapshot = { scrape, list: deployments() };
    // Gone once this scrape is: nothing per object is kept between scrapes.
    setImmediate(() => {
      if (snapshot?.scrape === scrape) snapshot = undefined;
    });
  }
  return snapshot.list;
}

/** A gauge of one value per KMSDeployment; no series where `valueOf` gives none. */
function perDeploymentValue(name: string, help: string, valueOf: (deployment: Deployment) => number | undefined): void {
  perDeploymentGauge(name, help, ['namespace', 'name'], (deployment, set) => {
    const value = valueOf(deployment);
    if (value !== undefined) set(deployment.labels, value);
  });
}

/** A gauge of one value per certificate of a KMSDeployment; no series where `valueOf` gives none. */
function perCertificateGauge(name: string, help: string,
  valueOf: (times: CredentialTimes) => number | undefined): void
{
  perDeploymentGauge(name, help, ['namespace', 'name', 'certificate'], ({ labels, expiries }, set) => {
    for (const [certificate, times] of expiries.certificates) {
      const value = valueOf(times);
      if (value !== undefined) set({ ...labels, certificate }, value);
    }
  });
}

const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;

/** A gauge filled at scrape time from the deployments' snapshot. */
function perDeploymentGauge<L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[],
  fill: (deployment: Deployment, set: (labels: Record<L, string>, value: number) => void) => void,
): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const deployment of deploymentsOfThisScrape()) fill(deployment, (labels, value) => this.set(labels, value));
    },
  });
}

perDeploymentGauge(
  'kmsstack_kmsdeployment_condition',
  'Status of each condition of a KMSDeployment: 1 for the status it has, 0 for the other two.',
  ['namespace', 'name', 'type', 'status'],
  ({ labels, status }, set) => {
    for (const condition of status.conditions ?? []) {
      if (typeof condition.type !== 'string') continue;
      for (const value of CONDITION_STATUSES) {
        set({ ...labels, type: condition.type, status: value }, condition.status === value ? 1 : 0);
      }
    }
  },
);

const CERTIFICATE_HELP =
  'certificate="ca" (the operator\'s CA, or the one spec.tls.caSecretRef names), "kes-server", "minio-client" or "operator-client"';

perCertificateGauge(
  'kmsstack_kmsdeployment_certificate_expiration_timestamp_seconds',
  `When a certificate of a KMSDeployment expires (Unix time); ${CERTIFICATE_HELP}.`,
  (times) => times.expiration,
);

perCertificateGauge(
  'kmsstack_kmsdeployment_certificate_not_before_timestamp_seconds',
  `When a certificate of a KMSDeployment became valid (Unix time; absent for a CA the user brings); ${CERTIFICATE_HELP}.`,
  (times) => times.notBefore,
);

perCertificateGauge(
  'kmsstack_kmsdeployment_certificate_renewal_timestamp_seconds',
  `When the operator renews a certificate of a KMSDeployment (Unix time: expiry minus spec.tls.renewBefore; for its own CA, minus spec.tls.validity; absent for a CA the user brings); ${CERTIFICATE_HELP}.`,
  (times) => times.renewal,
);

perDeploymentValue(
  'kmsstack_kmsdeployment_secret_id_expiration_timestamp_seconds',
  'When the AppRole secret-id KES holds expires (Unix time, status.vault.secretIDExpiresAt).',
  ({ expiries }) => expiries.secretId?.expiration,
);

perDeploymentValue(
  'kmsstack_kmsdeployment_secret_id_renewal_timestamp_seconds',
  'When the operator issues the next AppRole secret-id (Unix time: its expiry minus spec.vault.appRole.secretIDRenewBefore).',
  ({ expiries }) => expiries.secretId?.renewal,
);

perDeploymentValue(
  'kmsstack_kmsdeployment_secret_id_ttl_seconds',
  'Lifetime the operator asks Vault for each AppRole secret-id (spec.vault.appRole.secretIDTTL).',
  ({ expiries }) => expiries.secretId?.ttlSeconds,
);

perDeploymentValue(
  'kmsstack_kmsdeployment_encryption_verified_timestamp_seconds',
  'When this operator process last completed an EncryptionVerified round trip through KES for a KMSDeployment (Unix time; absent until the first one since the process started).',
  ({ uid }) => (uid !== undefined ? verifiedAt.get(uid) : undefined),
);

perDeploymentValue(
  'kmsstack_kmsdeployment_master_keys',
  'Master keys the operator created or adopted for a KMSDeployment (status.kes.keys).',
  ({ status }) => (Array.isArray(status.kes?.keys) ? status.kes.keys.length : undefined),
);

/** Records a successful EncryptionVerified round trip of `object` (the verify step calls this). */
export function recordEncryptionVerified(object: KubeObject, at: Date): void {
  if (object.metadata.uid) verifiedAt.set(object.metadata.uid, at.getTime() / 1000);
}

/**
 * Adds the KMSDeployments `source` lists to the gauges, with `secret` reading the Secrets they own
 * (from the same cache; without it only the status-derived series are exported); returns the function
 * that removes them.
 */
export function exportStatusMetrics(source: Source, secret?: SecretLookup): () => void {
  sources.set(source, secret);
  return () => void sources.delete(source);
}
