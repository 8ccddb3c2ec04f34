// spec.kes: the KES servers that sit between MinIO and Vault.
import { bool, imageField, int, obj, podSettings, secretRef, serviceSettings, str,
  withFieldDefaults } from './common.ts';
import type { JSONSchema } from './json-schema.ts';

/**
 * The last KES release published as an image. KES was archived in May 2025 and MinIO deleted its
 * Docker Hub repositories in September 2026; quay.io/minio still serves the published tags.
 */
export const defaultKesImage = 'quay.io/minio/kes:2025-03-12T09-35-18Z';

const key = obj(
  'KESKey',
  'A master key the operator creates through the KES API (guide step 4.3). Keys are never deleted unless keyDeletionPolicy is Delete.',
  { name: str('Name of the master key in KES (and of its entry under the Vault KV prefix).', 'keyName') },
  { required: ['name'] },
);

export const kesSchema: JSONSchema = obj(
  'KESSpec',
  'The KES servers (guide step 4). Required when mode is Vault, forbidden when mode is StaticKey.',
  {
    image: imageField('KES container image; forks that keep its config format work too.', { setting: 'kesImage',
      flag: '--default-kes-image', value: defaultKesImage }),
    replicas: int('Number of KES pods.', 1, 10, { default: 2 }),
    keys: {
      type: 'array',
      description:
        'Master keys to create in KES. Must contain spec.minio.keyName. Removing a key from the list does not delete it unless keyDeletionPolicy is Delete.',
      minItems: 1,
      maxItems: 32,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: key,
    },
    cache: withFieldDefaults(
      obj('KESCache', 'How long KES keeps master keys fetched from Vault in memory.', {
        expiry: withFieldDefaults(
          obj('KESCacheExpiry', 'Cache expiry times (KES config cache.expiry).', {
            any: str('Evict any cached key after this time, used or not.', 'duration', { default: '5m' }),
            unused: str('Evict a cached key that was not used for this time.', 'duration', { default: '20s' }),
            offline: str(
              'While Vault is unreachable or sealed, keep cached keys for this time instead of evicting them by any and unused (KES cache.expiry.offline), so that MinIO keeps working through a Vault outage that short. Unset: no offline cache, a sealed Vault stops KES at its next eviction. Keys stay in KES memory that long after Vault was sealed, so a seal meant to stop all access takes effect only then (docs/kes.md).',
              'duration',
            ),
          }),
        ),
      }),
    ),
    metrics: withFieldDefaults(
      obj('KESMetrics', "Scraping KES's own Prometheus metrics (docs/observability.md).", {
        enabled: bool(
          "Serve /v1/metrics without a client certificate (KES config api skip_auth) and annotate the KES pods with prometheus.io/scrape, port, path and scheme (https, with the certificate of the deployment's CA). The metrics hold request counts and latencies, no key material; whoever reaches the KES pods can read them.",
          false,
        ),
      }),
    ),
    tls: obj('KESTLS', "KES's server certificate.", {
      certificateSecretRef: secretRef(
        'KESCertificateSecretRef',
        "Serve this certificate instead of one the operator issues: a kubernetes.io/tls Secret in the same namespace (e.g. cert-manager's) with tls.crt, tls.key and ca.crt (added to the trust bundle MinIO and the operator verify KES with; without ca.crt the certificate must be signed by the deployment's CA). Its names must cover <name>-kes.<ns>.svc.<clusterDomain>. The operator never writes it; KES rolls when it changes.",
      ),
    }),
    ...podSettings('KES', { names: [], prefixes: ['KES_VAULT_'] }),
    service: serviceSettings('KES'),
  },
  { required: ['keys'] },
);
