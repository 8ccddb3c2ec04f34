// The two Services of MinIO: a headless one that gives every server a stable DNS name for the
// distributed endpoints, and the client Service for S3 and the console.
import type { V1Service } from '@kubernetes/client-node';
import type { DefaultedKMSDeploymentSpec } from '../api/index.ts';
import { selectorLabels, stackLabels } from '../workload/labels.ts';
import { stackService } from '../workload/service.ts';
import type { DeploymentRef } from '../workload/names.ts';
import { MINIO_CONSOLE_PORT, MINIO_S3_PORT, minioNames } from './names.ts';
import { minioPools, poolServerHost } from './pools.ts';

export function buildMinioHeadlessService(ref: DeploymentRef): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: minioNames(ref.name).headless, namespace: ref.namespace, labels: stackLabels(ref.name, 'minio') },
    spec: {
      clusterIP: 'None',
      // Servers must find each other before any is ready: distributed MinIO starts only with its peers.
      publishNotReadyAddresses: true,
      selector: selectorLabels(ref.name, 'minio'),
      ports: [{ name: 's3', port: MINIO_S3_PORT, targetPort: 's3', protocol: 'TCP' }],
    },
  };
}

export function buildMinioService(ref: DeploymentRef, spec: DefaultedKMSDeploymentSpec): V1Service {
  return stackService(ref, 'minio', minioNames(ref.name).workload, spec.minio.service, [
    { name: 's3', port: MINIO_S3_PORT, targetPort: 's3', protocol: 'TCP' },
    { name: 'console', port: MINIO_CONSOLE_PORT, targetPort: 'console', protocol: 'TCP' },
  ]);
}

/** The S3 URL clients use inside the cluster (status.minio.endpoint). */
export function minioEndpoint(ref: DeploymentRef, spec: DefaultedKMSDeploymentSpec): string {
  const scheme = spec.minio.tls.enabled ? 'https' : 'http';
  return `${scheme}://${minioNames(ref.name).workload}.${ref.namespace}.svc.${spec.tls.clusterDomain}:${MINIO_S3_PORT}`;
}

/**
 * The host names MinIO's certificate must be valid for: the client Service as status.minio.endpoint
 * names it and, for a distributed MinIO, every server's per-pod name (the servers dial each other by it).
 */
export function minioCertificateHosts(ref: DeploymentRef, spec: DefaultedKMSDeploymentSpec): string[] {
  const pools = minioPools(ref, spec);
  const distributed = pools.length > 1 || spec.minio.replicas > 1;
  const servers = distributed
    ? pools.flatMap((pool) => Array.from({ length: pool.servers }, (_, i) => poolServerHost(ref, spec, pool, i)))
    : [];
  return [`${minioNames(ref.name).workload}.${ref.namespace}.svc.${spec.tls.clusterDomain}`, ...servers];
}
