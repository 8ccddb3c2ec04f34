// Which readiness probe a MinIO StatefulSet gets. /minio/health/cluster (this server reaches its write
// quorum) keeps a restarted server out of the Service, and the rollout from stopping the next server,
// until it can take writes: /minio/health/ready passes as soon as the server listens, and a server that
// has found only some of its peers' drives answered writes with 503 SlowDownWrite (docs/minio.md).
// One case needs /minio/health/ready: distributed MinIO's servers start only with a peer that runs the
// same MINIO_* environment and command line (cmd/bootstrap-peer-server.go), so when a rollout changes
// the environment, the first restarted server waits for the second, and a write-quorum check would stop
// the rollout at it for ever. Such a rollout runs with /ready; once it is over, the servers roll once
// more to get /cluster back. The command line changes only with the server pools, and then the operator
// restarts all servers together (steps/minio-pools.ts), which needs no exception. Pure.
import type { V1StatefulSet } from '@kubernetes/client-node';
import { minioHealthPaths, type MinioReadiness } from './statefulset.ts';

function minioContainer(statefulSet: V1StatefulSet | undefined) {
  return statefulSet?.spec?.template?.spec?.containers?.find((c) => c.name === 'minio');
}

// Variables MinIO leaves out of the comparison (skipEnvs in cmd/bootstrap-peer-server.go) that the operator sets.
const UNCOMPARED = new Set(['MINIO_ROOT_USER', 'MINIO_ROOT_PASSWORD', 'MINIO_ACCESS_KEY', 'MINIO_SECRET_KEY',
  'MINIO_OPTS']);

/**
 * The part of what distributed MinIO's servers must agree on to start that a rolling update can change:
 * their MINIO_* variables, each as its value or where it comes from, without what the API server fills
 * in (a fieldRef's apiVersion).
 */
export function bootstrapConfigOf(statefulSet: V1StatefulSet | undefined): string {
  const container = minioContainer(statefulSet);
  const env = (container?.env ?? [])
    .filter(({ name }) => name.startsWith('MINIO_') && !UNCOMPARED.has(name))
    .map((
      { name, value, valueFrom: from },
    ) => [name, value ?? '', from?.secretKeyRef?.name ?? '', from?.secretKeyRef?.key ?? '',
      from?.configMapKeyRef?.name ?? '', from?.configMapKeyRef?.key ?? '', from?.fieldRef?.fieldPath ?? '',
      from?.resourceFieldRef?.resource ?? '']
    );
  return JSON.stringify(env);
}

/** The readiness a live StatefulSet's probe asks for; undefined for a path the operator never sets. */
export function readinessOf(statefulSet: V1StatefulSet | undefined): MinioReadiness | undefined {
  const path = minioContainer(statefulSet)?.readinessProbe?.httpGet?.path;
  return path === minioHealthPaths.cluster ? 'cluster' : path === minioHealthPaths.ready ? 'ready' : undefined;
}

/**
 * The readiness probe for `desired` (built with either) given the `live` StatefulSet, whether the live one's
 * rollout is over (rolloutOf for its own template) and whether MinIO is distributed (more than one server).
 */
export function minioReadiness(desired: V1StatefulSet, live: V1StatefulSet | undefined, liveRolledOut: boolean,
  distributed: boolean): MinioReadiness
{
  if (!distributed || !live) return 'cluster';
  if (bootstrapConfigOf(desired) !== bootstrapConfigOf(live)) return 'ready';
  return readinessOf(live) === 'ready' && !liveRolledOut ? 'ready' : 'cluster';
}
