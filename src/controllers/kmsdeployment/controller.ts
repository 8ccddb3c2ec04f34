// The KMSDeployment controller as main.ts registers it with the runtime: for KMSDeployments, owning
// the kinds of their children (cached only when labelled as the operator's), reconciled along the
// data path with the Vault settings the operator was started with, and its status gauges exported
// while the manager runs.
import type { OperatorDefaults } from '../../api/index.ts';
import { controllerFor, type ControllerRegistration, type ManagerParts } from '../../runtime/builder.ts';
import { MANAGED_BY, MANAGED_BY_LABEL, type ObjectReader } from '../../runtime/cache.ts';
import type { Reconciler } from '../../runtime/controller.ts';
import { type KubeObject, ownedKinds } from '../../runtime/kube/resources.ts';
import type { PrefixRule } from '../../vault/tenancy.ts';
import type { KMSDeploymentCleanup, KMSDeploymentStep } from './context.ts';
import { exportStatusMetrics } from './status-metrics.ts';

/** The operator settings this controller reads (a subset of the operator's configuration). */
export interface KMSDeploymentSettings {
  /** Deadline of one attempt of a Vault call, connect to last byte (--vault-request-timeout); a reconcile that took longer waited on a stalled server. */
  vaultRequestTimeoutMs: number;
  /** The ServiceAccount token file the operator logs in to Vault with (Kubernetes auth). */
  vaultTokenPath: string;
  /** Origins of the Vault servers the operator may contact, or "*" (token auth only) for any (--vault-addresses). */
  vaultAddresses: string[];
  /** Which KV prefixes KMSDeployments may use (--kv-prefix-template). */
  kvPrefixRule: PrefixRule;
  /** The name of this operator among others on one Vault (--instance-name): part of every Vault object name. */
  instanceName: string;
  /** Images of the KMSDeployments that leave spec.kes.image / spec.minio.image unset (--default-*-image). */
  defaultImages: OperatorDefaults;
}

export interface KMSDeploymentControllerOptions {
  settings: KMSDeploymentSettings;
  /** The CAs of --vault-ca-files, already read (main reads them once). */
  pinnedCAs?: ReadonlyMap<string, string>;
  /** Stages 3-9 of the data path and the finalizer's cleanups; default defaultDataPath(). */
  steps?: readonly KMSDeploymentStep[];
  cleanups?: readonly KMSDeploymentCleanup[];
  now?: () => Date;
}

export function kmsDeploymentController(options: KMSDeploymentControllerOptions): ControllerRegistration {
  const { settings } = options;
  return controllerFor('KMSDeployment')
    .owns(ownedKinds, `${MANAGED_BY_LABEL}=${MANAGED_BY}`)
    // A certificate Secret of the user's (cert-manager renews it in place) reconciles the KMSDeployments
    // that name it at once, not at the next poll. Only kubernetes.io/tls Secrets qualify (the pki step
    // refuses any other type), so the watch is narrowed to them, and keeps their metadata only.
    .watches({ kind: 'Secret', fieldSelector: `type=${TLS_SECRET_TYPE}`, map: deploymentsNamingSecret })
    .complete('kmsdeployment', (parts) => {
      const { cache } = parts;
      // The data path (PKI, Vault, KES, MinIO and the libraries they use: ASN.1, node-vault) is loaded
      // by the first reconcile, so an operator with nothing to reconcile does not hold it in memory.
      let loading: Promise<Reconciler> | undefined;
      const load = () => {
        loading ??= loadDataPath(options, parts).catch((err: unknown) => {
          loading = undefined;
          throw err;
        });
        return loading;
      };
      return {
        reconcile: async (request) => (await load())(request),
        slowReconcileMs: settings.vaultRequestTimeoutMs,
        stop: exportStatusMetrics(() => cache.listAll('KMSDeployment'),
          (namespace, name) => cache.get('Secret', namespace, name)),
      };
    });
}

const TLS_SECRET_TYPE = 'kubernetes.io/tls';

type CertificateRefs = { kes?: { tls?: { certificateSecretRef?: { name?: string } } };
  minio?: { tls?: { certificateSecretRef?: { name?: string } } } };

/** The keys of the cached KMSDeployments in the Secret's namespace whose spec names it as a certificate Secret. */
export function deploymentsNamingSecret(secret: KubeObject, cache: ObjectReader): string[] {
  const { namespace = '', name } = secret.metadata;
  return cache.list('KMSDeployment', namespace)
    .filter((deployment) => {
      const spec = deployment['spec'] as CertificateRefs | undefined;
      return spec?.kes?.tls?.certificateSecretRef?.name === name ||
        spec?.minio?.tls?.certificateSecretRef?.name === name;
    })
    .map((deployment) => `${namespace}/${deployment.metadata.name}`);
}

async function loadDataPath(options: KMSDeploymentControllerOptions,
  { kube, cache, events }: ManagerParts): Promise<Reconciler>
{
  const { settings } = options;
  const [{ reconcile }, { defaultDataPath }, { vaultRuntime }] = await Promise.all([import('./reconcile.ts'),
    import('./data-path.ts'), import('./steps/vault.ts')]);
  const defaults = options.steps ? undefined : defaultDataPath(vaultRuntime({
    serviceAccountTokenPath: settings.vaultTokenPath,
    timeoutMs: settings.vaultRequestTimeoutMs,
    tenancy: { addresses: settings.vaultAddresses, prefixRule: settings.kvPrefixRule, instance: settings.instanceName },
    pinnedCAs: options.pinnedCAs,
  }));
  const env = {
    kube,
    cache,
    events,
    now: options.now ?? (() => new Date()),
    steps: options.steps ?? defaults?.steps ?? [],
    cleanups: options.cleanups ?? defaults?.cleanups ?? [],
    defaultImages: settings.defaultImages,
  };
  return (request) => reconcile(env, request);
}
