// The Kubernetes objects that run KES for one KMSDeployment: the config Secret, the Deployment and
// the Service. ownerReferences are left out: the runtime adds them when it applies the objects.
import { encodeSecretData, opaqueSecret } from '../runtime/kube/secret-data.ts';
import type { V1Deployment, V1EnvVar, V1Secret, V1Service, V1ServiceAccount, V1Volume,
  V1VolumeMount } from '@kubernetes/client-node';
import type { DefaultedKMSDeploymentSpec } from '../api/index.ts';
import { certificateSecretName } from '../workload/certificates.ts';
import { durationMs } from '../api/duration.ts';
import { APPROLE_SECRET_KEYS, appRoleSecretName, KES_APPROLE_CHECKSUM_ANNOTATION } from '../vault/names.ts';
import { KES_PORT } from '../workload/names.ts';
import { kesPaths } from './api.ts';
import { CONFIG_CHECKSUM_ANNOTATION, podAnnotations, scrapeAnnotations, selectorLabels,
  stackLabels } from '../workload/labels.ts';
import { KES_APPROLE_ENV, KES_CONFIG_KEY, kesFiles, kesMounts } from './names.ts';
import { type DeploymentRef, kesNames } from '../workload/names.ts';
import { hardenedContainerSecurity, hardenedPodSpec, podLabels, withUserEnv } from '../workload/pod-settings.ts';
import { stackService } from '../workload/service.ts';

/** UID/GID KES runs as: the KES image runs as root by default, so a non-root user must be named. */
export const KES_RUN_AS = 1000;

const READY_PERIOD_SECONDS = 10;

/**
 * How many failed readiness probes take a KES Pod out of its Service. /v1/ready fails as soon as Vault is
 * unreachable or sealed (KES 2025-03-12 `server.go` `ready`), on every KES Pod at once since they share one
 * Vault; a KES Pod out of the Service is out of MinIO's reach, so it could not serve the keys it still has in
 * its cache. A Pod that was ready therefore stays in the Service for as long as its cache may hold keys
 * (`spec.kes.cache.expiry.any`, or `.offline` when longer; at least the usual 3 probes); a new Pod still needs one success first, so a
 * rollout never proceeds to a KES that cannot reach Vault.
 */
export function readinessFailureThreshold(expiry: { any: string; offline?: string }): number {
  const cachedMs = Math.max(durationMs(expiry.any), expiry.offline ? durationMs(expiry.offline) : 0);
  return Math.max(3, Math.ceil(cachedMs / (READY_PERIOD_SECONDS * 1000)));
}

export interface KesWorkloadInput {
  deployment: DeploymentRef;
  spec: DefaultedKMSDeploymentSpec;
  /** Checksum of what the pods read at start-up (config, TLS); changes roll the pods. */
  configChecksum: string;
  /** Checksum of the AppRole Secret (its `kmsstack.io/approle-checksum`); a new secret-id rolls KES. */
  appRoleChecksum: string;
}

export function buildKesConfigSecret(ref: DeploymentRef, configYaml: string): V1Secret {
  const metadata = { name: kesNames(ref.name).configSecret, namespace: ref.namespace,
    labels: stackLabels(ref.name, 'kes') };
  return opaqueSecret(metadata, encodeSecretData({ [KES_CONFIG_KEY]: configYaml }));
}

function volumes(input: KesWorkloadInput): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const { deployment, spec } = input;
  const readOnly = 0o440;
  const list: V1Volume[] = [
    { name: 'config', secret: { secretName: kesNames(deployment.name).configSecret, defaultMode: readOnly } },
    {
      name: 'tls',
      secret: {
        // The operator's <name>-kes-tls, or the user's spec.kes.tls.certificateSecretRef.
        secretName: certificateSecretName(spec, deployment.name, 'kesServer'),
        defaultMode: readOnly,
        items: [
          { key: 'tls.crt', path: 'tls.crt' },
          { key: 'tls.key', path: 'tls.key' },
        ],
      },
    },
  ];
  const mounts: V1VolumeMount[] = [
    { name: 'config', mountPath: kesMounts.configDir, readOnly: true },
    { name: 'tls', mountPath: kesMounts.tlsDir, readOnly: true },
  ];
  const vault = spec.vault;
  if (vault?.kesAuth === 'Kubernetes') {
    // Bounded lifetime and an audience: the token opens only this Vault role, not the Kubernetes API.
    const expirationSeconds = Math.floor(durationMs(vault.kesKubernetes.tokenExpiration) / 1000);
    list.push({
      name: 'vault-token',
      projected: { defaultMode: readOnly, sources: [{
        serviceAccountToken: { audience: vault.kesKubernetes.audience, expirationSeconds, path: 'token' },
      }] },
    });
    mounts.push({ name: 'vault-token', mountPath: kesMounts.vaultTokenDir, readOnly: true });
  }
  const vaultCa = spec.vault?.tls?.caSecretRef;
  if (vaultCa) {
    list.push({ name: 'vault-ca',
      secret: { secretName: vaultCa.name, defaultMode: readOnly, items: [{ key: vaultCa.key, path: 'ca.crt' }] } });
    mounts.push({ name: 'vault-ca', mountPath: kesMounts.vaultCaDir, readOnly: true });
  }
  return { volumes: list, mounts };
}

function appRoleEnv(name: string): V1EnvVar[] {
  const secret = appRoleSecretName(name);
  return [
    { name: KES_APPROLE_ENV.roleId, valueFrom: { secretKeyRef: { name: secret, key: APPROLE_SECRET_KEYS.roleId } } },
    { name: KES_APPROLE_ENV.secretId,
      valueFrom: { secretKeyRef: { name: secret, key: APPROLE_SECRET_KEYS.secretId } } },
  ];
}

/** The ServiceAccount KES runs as with spec.vault.kesAuth Kubernetes; its Vault role binds exactly it. */
export function buildKesServiceAccount(ref: DeploymentRef): V1ServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: kesNames(ref.name).serviceAccount, namespace: ref.namespace,
      labels: stackLabels(ref.name, 'kes') },
    // KES never calls the Kubernetes API; its Vault token is a projected volume with its own audience.
    automountServiceAccountToken: false,
  };
}

export function buildKesDeployment(input: KesWorkloadInput): V1Deployment {
  const { deployment, spec } = input;
  const kes = spec.kes;
  if (spec.mode !== 'Vault' || !kes) {
    throw new Error(`spec.kes: KES runs only in Vault mode with spec.kes set (mode is ${spec.mode})`);
  }
  const { volumes: podVolumes, mounts } = volumes(input);
  const kubernetesLogin = spec.vault?.kesAuth === 'Kubernetes';
  const probe = (path: string) => ({ httpGet: { path, port: 'https', scheme: 'HTTPS' } });

  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: kesNames(deployment.name).workload, namespace: deployment.namespace,
      labels: stackLabels(deployment.name, 'kes') },
    spec: {
      replicas: kes.replicas,
      selector: { matchLabels: selectorLabels(deployment.name, 'kes') },
      // A new pod must be ready before an old one goes, so rolling a new secret-id keeps KES serving.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: podLabels(kes.podLabels, stackLabels(deployment.name, 'kes')),
          annotations: podAnnotations({
            ...scrapeAnnotations(kes.metrics.enabled, { port: KES_PORT, path: kesPaths.metrics, scheme: 'https' }),
            ...kes.podAnnotations,
          }, {
            [CONFIG_CHECKSUM_ANNOTATION]: input.configChecksum,
            [KES_APPROLE_CHECKSUM_ANNOTATION]: input.appRoleChecksum,
          }),
        },
        spec: {
          ...hardenedPodSpec(kes, KES_RUN_AS),
          // Still no API token in the pod: only the projected Vault token (volumes) is mounted.
          ...(kubernetesLogin ? { serviceAccountName: kesNames(deployment.name).serviceAccount } : {}),
          containers: [
            {
              name: 'kes',
              image: kes.image,
              args: ['server', '--config', kesFiles.config],
              ports: [{ name: 'https', containerPort: KES_PORT, protocol: 'TCP' }],
              env: withUserEnv(kubernetesLogin ? [] : appRoleEnv(deployment.name), kes.env),
              ...(kes.resources ? { resources: kes.resources } : {}),
              // /v1/ready answers 200 only while KES reaches Vault; /version needs no identity and
              // no keystore, so a Vault outage makes KES unready but does not restart it.
              readinessProbe: { ...probe(kesPaths.ready), periodSeconds: READY_PERIOD_SECONDS, timeoutSeconds: 5,
                failureThreshold: readinessFailureThreshold(kes.cache.expiry) },
              livenessProbe: { ...probe(kesPaths.version), initialDelaySeconds: 5, periodSeconds: 20, timeoutSeconds: 5,
                failureThreshold: 3 },
              securityContext: hardenedContainerSecurity(kes.securityContext),
              volumeMounts: mounts,
            },
          ],
          volumes: podVolumes,
        },
      },
    },
  };
}

export function buildKesService(ref: DeploymentRef, spec: DefaultedKMSDeploymentSpec): V1Service {
  return stackService(ref, 'kes', kesNames(ref.name).workload, spec.kes?.service, [{ name: 'https', port: KES_PORT,
    targetPort: 'https', protocol: 'TCP' }]);
}
