// The MinIO StatefulSet of one KMSDeployment: one server per pod, one PersistentVolumeClaim per
// drive, started all at once (distributed MinIO waits for its peers). ownerReferences are left out:
// the runtime adds them when it applies the object.
import type { V1PersistentVolumeClaim, V1StatefulSet, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { DefaultedKMSDeploymentSpec } from '../api/index.ts';
import { CONFIG_CHECKSUM_ANNOTATION, podAnnotations, scrapeAnnotations, selectorLabels, stackLabels } from '../workload/labels.ts';
import type { DeploymentRef } from '../workload/names.ts';
import { hardenedContainerSecurity, hardenedPodSpec, podLabels, withUserEnv } from '../workload/pod-settings.ts';
import { buildMinioEnv } from './env.ts';
import { drivePath, driveVolumeName, MINIO_CONSOLE_PORT, MINIO_METRICS_PATH, MINIO_S3_PORT, minioMounts, minioNames } from './names.ts';

/** UID/GID MinIO runs as (the MinIO image does not name a non-root user itself). */
export const MINIO_RUN_AS = 1000;

export const minioHealthPaths = { live: '/minio/health/live', ready: '/minio/health/ready' } as const;

/**
 * A rollout of distributed MinIO stops the next server only after the restarted one has been ready this long:
 * enough for the other servers to resolve its new address (MINIO_DNS_CACHE_TTL) and reconnect, so that no
 * two servers are out of reach at once (the erasure sets keep their write quorum).
 */
export const MINIO_MIN_READY_SECONDS = 20;
/**
 * A stopping server keeps serving this long before it gets SIGTERM: the time for its endpoint to leave the
 * Service everywhere. MinIO cancels the requests it is serving when it gets SIGTERM (HTTP 499 or a closed
 * connection to the client), so without it the requests that were routed to it just before fail.
 */
export const MINIO_PRE_STOP_SECONDS = 5;

export interface MinioWorkloadInput {
  deployment: DeploymentRef;
  spec: DefaultedKMSDeploymentSpec;
  /** Checksum of what the pods read at start-up (credentials, identity, certificates); changes roll them. */
  configChecksum: string;
}

/** The drive argument of one server: `/data1`, or the ellipsis `/data{1...D}` for several drives. */
function driveArgument(drives: number): string {
  return drives === 1 ? drivePath(1) : `/data{1...${drives}}`;
}

/**
 * The endpoints argument of `minio server`: local drives for a single server, otherwise every
 * server's drives by their stable DNS names, as MinIO's ellipsis pattern
 * `http(s)://<sts>-{0...N-1}.<headless>.<ns>.svc.<domain>/data{1...D}`.
 */
export function minioEndpoints(ref: DeploymentRef, spec: DefaultedKMSDeploymentSpec): string {
  const { replicas, drivesPerServer, tls } = spec.minio;
  const drives = driveArgument(drivesPerServer);
  if (replicas === 1) return drives;
  const names = minioNames(ref.name);
  const scheme = tls.enabled ? 'https' : 'http';
  return `${scheme}://${names.workload}-{0...${replicas - 1}}.${names.headless}.${ref.namespace}.svc.${spec.tls.clusterDomain}${drives}`;
}

export function minioServerArgs(ref: DeploymentRef, spec: DefaultedKMSDeploymentSpec): string[] {
  return [
    'server',
    '--address',
    `:${MINIO_S3_PORT}`,
    '--console-address',
    `:${MINIO_CONSOLE_PORT}`,
    '--certs-dir',
    minioMounts.certsDir,
    minioEndpoints(ref, spec),
  ];
}

function podVolumes(ref: DeploymentRef, spec: DefaultedKMSDeploymentSpec): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const names = minioNames(ref.name);
  const readOnly = 0o440;
  const volumes: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  if (spec.mode === 'Vault') {
    volumes.push({
      name: 'kes-identity',
      secret: {
        secretName: names.kesIdentitySecret,
        defaultMode: readOnly,
        items: ['tls.crt', 'tls.key', 'ca.crt'].map((key) => ({ key, path: key })),
      },
    });
    mounts.push({ name: 'kes-identity', mountPath: minioMounts.kesIdentityDir, readOnly: true });
  }
  if (spec.minio.tls.enabled) {
    // MinIO looks for public.crt, private.key and CAs/ in its certs directory.
    volumes.push({
      name: 'certs',
      secret: {
        secretName: names.tlsSecret,
        defaultMode: readOnly,
        items: [
          { key: 'tls.crt', path: 'public.crt' },
          { key: 'tls.key', path: 'private.key' },
          { key: 'ca.crt', path: 'CAs/ca.crt' },
        ],
      },
    });
    mounts.push({ name: 'certs', mountPath: minioMounts.certsDir, readOnly: true });
  } else {
    volumes.push({ name: 'certs', emptyDir: {} });
    mounts.push({ name: 'certs', mountPath: minioMounts.certsDir });
  }
  volumes.push({ name: 'tmp', emptyDir: {} });
  mounts.push({ name: 'tmp', mountPath: minioMounts.tmpDir });
  for (let i = 1; i <= spec.minio.drivesPerServer; i++) mounts.push({ name: driveVolumeName(i), mountPath: drivePath(i) });
  return { volumes, mounts };
}

function claimTemplates(ref: DeploymentRef, spec: DefaultedKMSDeploymentSpec): V1PersistentVolumeClaim[] {
  const { size, storageClassName } = spec.minio.storage;
  return Array.from({ length: spec.minio.drivesPerServer }, (_, i) => ({
    metadata: { name: driveVolumeName(i + 1), labels: selectorLabels(ref.name, 'minio') },
    spec: {
      accessModes: ['ReadWriteOnce'],
      ...(storageClassName ? { storageClassName } : {}),
      resources: { requests: { storage: size } },
    },
  }));
}

export function buildMinioStatefulSet(input: MinioWorkloadInput): V1StatefulSet {
  const { deployment: ref, spec } = input;
  const minio = spec.minio;
  const names = minioNames(ref.name);
  const { volumes, mounts } = podVolumes(ref, spec);
  const scheme = minio.tls.enabled ? 'HTTPS' : 'HTTP';
  const probe = (path: string) => ({ httpGet: { path, port: 's3', scheme } });

  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: names.workload, namespace: ref.namespace, labels: stackLabels(ref.name, 'minio') },
    spec: {
      serviceName: names.headless,
      replicas: minio.replicas,
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate' },
      ...(minio.replicas > 1 ? { minReadySeconds: MINIO_MIN_READY_SECONDS } : {}),
      // Drives hold the objects: never delete their claims with the StatefulSet or on scale-down.
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      selector: { matchLabels: selectorLabels(ref.name, 'minio') },
      template: {
        metadata: {
          labels: podLabels(minio.podLabels, stackLabels(ref.name, 'minio')),
          annotations: podAnnotations(
            { ...scrapeAnnotations(minio.metrics.enabled, { port: MINIO_S3_PORT, path: MINIO_METRICS_PATH, scheme: minio.tls.enabled ? 'https' : 'http' }), ...minio.podAnnotations },
            { [CONFIG_CHECKSUM_ANNOTATION]: input.configChecksum },
          ),
        },
        spec: {
          ...hardenedPodSpec(minio, MINIO_RUN_AS, 'OnRootMismatch'),
          containers: [
            {
              name: 'minio',
              image: minio.image,
              args: minioServerArgs(ref, spec),
              ports: [
                { name: 's3', containerPort: MINIO_S3_PORT, protocol: 'TCP' },
                { name: 'console', containerPort: MINIO_CONSOLE_PORT, protocol: 'TCP' },
              ],
              env: withUserEnv(buildMinioEnv(ref, spec), minio.env),
              ...(minio.resources ? { resources: minio.resources } : {}),
              // /ready also generates a data key through the KMS, so it reflects KES and Vault;
              // /live contacts nothing external, so a KMS outage never restarts MinIO.
              readinessProbe: { ...probe(minioHealthPaths.ready), periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
              livenessProbe: { ...probe(minioHealthPaths.live), initialDelaySeconds: 10, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
              lifecycle: { preStop: { sleep: { seconds: MINIO_PRE_STOP_SECONDS } } },
              securityContext: hardenedContainerSecurity(minio.securityContext),
              volumeMounts: mounts,
            },
          ],
          volumes,
        },
      },
      volumeClaimTemplates: claimTemplates(ref, spec),
    },
  };
}
