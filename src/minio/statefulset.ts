// The MinIO StatefulSet of one KMSDeployment: one server per pod, one PersistentVolumeClaim per
// drive, started all at once (distributed MinIO waits for its peers). ownerReferences are left out:
// the runtime adds them when it applies the object.
import type { V1PersistentVolumeClaim, V1StatefulSet, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { DefaultedKMSDeploymentSpec } from '../api/index.ts';
import { CONFIG_CHECKSUM_ANNOTATION, podAnnotations, scrapeAnnotations, selectorLabels,
  stackLabels } from '../workload/labels.ts';
import type { DeploymentRef } from '../workload/names.ts';
import { hardenedContainerSecurity, hardenedPodSpec, podLabels, withUserEnv } from '../workload/pod-settings.ts';
import { certificateSecretName } from '../workload/certificates.ts';
import { buildMinioEnv } from './env.ts';
import { drivePath, driveVolumeName, MINIO_CONSOLE_PORT, MINIO_METRICS_PATH, MINIO_S3_PORT, minioMounts,
  minioNames } from './names.ts';
import { driveArgument, type MinioPool, minioPools, poolEndpoint } from './pools.ts';

/** UID/GID MinIO runs as (the MinIO image does not name a non-root user itself). */
export const MINIO_RUN_AS = 1000;

export const minioHealthPaths = { live: '/minio/health/live', ready: '/minio/health/ready',
  cluster: '/minio/health/cluster' } as const;

/**
 * What the readiness probe asks (src/minio/readiness.ts): `cluster`, whether this server can write (it
 * reaches the write quorum of drives), or `ready`, whether it is up at all.
 */
export type MinioReadiness = 'cluster' | 'ready';

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
  /**
   * Whether the S3 certificate Secret has a ca.crt for MinIO to trust: always for the operator's
   * <name>-minio-tls, maybe not for the user's (spec.minio.tls.certificateSecretRef). Default true.
   */
  certificateHasCA?: boolean;
  /** The readiness probe (src/minio/readiness.ts); default `cluster`. */
  readiness?: MinioReadiness;
}

/**
 * The endpoints arguments of `minio server`: local drives for a single server, otherwise every
 * server's drives by their stable DNS names, one argument per server pool (src/minio/pools.ts).
 */
export function minioEndpoints(ref: DeploymentRef, spec: DefaultedKMSDeploymentSpec): string[] {
  const pools = minioPools(ref, spec);
  if (pools.length === 1 && spec.minio.replicas === 1) return [driveArgument(spec.minio.drivesPerServer)];
  return pools.map((pool) => poolEndpoint(ref, spec, pool));
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
    ...minioEndpoints(ref, spec),
  ];
}

function podVolumes(input: MinioWorkloadInput, pool: MinioPool): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const { deployment: ref, spec } = input;
  const names = minioNames(ref.name);
  const certificate = { secretName: certificateSecretName(spec, ref.name, 'minioServer'),
    withCA: input.certificateHasCA ?? true };
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
        secretName: certificate.secretName,
        defaultMode: readOnly,
        items: [
          { key: 'tls.crt', path: 'public.crt' },
          { key: 'tls.key', path: 'private.key' },
          // Without a ca.crt MinIO's servers verify each other with the image's system roots.
          ...(certificate.withCA ? [{ key: 'ca.crt', path: 'CAs/ca.crt' }] : []),
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
  for (let i = 1; i <= pool.drivesPerServer; i++) mounts.push({ name: driveVolumeName(i), mountPath: drivePath(i) });
  return { volumes, mounts };
}

function claimTemplates(ref: DeploymentRef, pool: MinioPool): V1PersistentVolumeClaim[] {
  const { size, storageClassName } = pool.storage;
  return Array.from({ length: pool.drivesPerServer }, (_, i) => ({
    metadata: { name: driveVolumeName(i + 1), labels: { ...selectorLabels(ref.name, 'minio'), ...pool.selector } },
    spec: {
      accessModes: ['ReadWriteOnce'],
      ...(storageClassName ? { storageClassName } : {}),
      resources: { requests: { storage: size } },
    },
  }));
}

/** The StatefulSet of the first server pool (`pool` unset) or of another one of minioPools. */
export function buildMinioStatefulSet(input: MinioWorkloadInput,
  pool: MinioPool = minioPools(input.deployment, input.spec)[0]!): V1StatefulSet
{
  const { deployment: ref, spec } = input;
  const minio = spec.minio;
  const names = minioNames(ref.name);
  const { volumes, mounts } = podVolumes(input, pool);
  const selector = { ...selectorLabels(ref.name, 'minio'), ...pool.selector };
  const scheme = minio.tls.enabled ? 'HTTPS' : 'HTTP';
  const probe = (path: string) => ({ httpGet: { path, port: 's3', scheme } });

  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: pool.statefulSet, namespace: ref.namespace,
      labels: { ...stackLabels(ref.name, 'minio'), ...pool.selector } },
    spec: {
      serviceName: names.headless,
      replicas: pool.servers,
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate' },
      ...(minio.replicas > 1 ? { minReadySeconds: MINIO_MIN_READY_SECONDS } : {}),
      // Drives hold the objects: never delete their claims with the StatefulSet or on scale-down.
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels: podLabels(minio.podLabels, { ...stackLabels(ref.name, 'minio'), ...pool.selector }),
          annotations: podAnnotations(
            {
              ...scrapeAnnotations(minio.metrics.enabled, { port: MINIO_S3_PORT, path: MINIO_METRICS_PATH,
                scheme: minio.tls.enabled ? 'https' : 'http' }),
              ...minio.podAnnotations,
            },
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
              // Ready (in the Service, and the rollout goes on) once this server reaches its write quorum:
              // /minio/health/ready passes as soon as it listens, before it has found its peers' drives.
              // Distributed, twice 10 s apart: writes still failed right after the first pass (docs/minio.md).
              // Unlike /ready (a data key through the KMS), /cluster contacts no KMS: a KMS outage neither takes
              // MinIO out of its Service nor, through /live, restarts it.
              readinessProbe: { ...probe(minioHealthPaths[input.readiness ?? 'cluster']), periodSeconds: 10,
                timeoutSeconds: 5, ...(minio.replicas > 1 ? { successThreshold: 2 } : {}), failureThreshold: 3 },
              livenessProbe: { ...probe(minioHealthPaths.live), initialDelaySeconds: 10, periodSeconds: 20,
                timeoutSeconds: 5, failureThreshold: 3 },
              lifecycle: { preStop: { sleep: { seconds: MINIO_PRE_STOP_SECONDS } } },
              securityContext: hardenedContainerSecurity(minio.securityContext),
              volumeMounts: mounts,
            },
          ],
          volumes,
        },
      },
      volumeClaimTemplates: claimTemplates(ref, pool),
    },
  };
}
