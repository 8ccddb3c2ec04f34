// MinIO's server pools: the first one (spec.minio.replicas x drivesPerServer with spec.minio.storage,
// the StatefulSet <name>-minio as it always was) and the ones spec.minio.pools adds, each its own
// StatefulSet <name>-minio-<pool name>. Every server of every pool is started with the URLs of all
// pools, in this order; MinIO places new objects on the pools by free space and reads every pool.
import type { DefaultedKMSDeploymentSpec } from '../api/index.ts';
import type { DeploymentRef } from '../workload/names.ts';
import { drivePath, minioNames } from './names.ts';

/** Pod label telling the pools apart (the first pool's pods have none: its selector is immutable). */
const POOL_LABEL = 'kmsstack.io/pool';

export interface MinioPool {
  /** 0 for the first pool, i + 1 for spec.minio.pools[i]. */
  index: number;
  statefulSet: string;
  servers: number;
  drivesPerServer: number;
  storage: { size: string; storageClassName?: string };
  /** Selector labels beyond the stack's own. */
  selector: Record<string, string>;
  /** The spec fields of its shape, for messages. */
  fields: { servers: string; drivesPerServer: string; size: string; storageClassName: string };
}

export function minioPools(ref: DeploymentRef, spec: DefaultedKMSDeploymentSpec): MinioPool[] {
  const { minio } = spec;
  const workload = minioNames(ref.name).workload;
  const first: MinioPool = {
    index: 0,
    statefulSet: workload,
    servers: minio.replicas,
    drivesPerServer: minio.drivesPerServer,
    storage: { size: minio.storage.size,
      ...(minio.storage.storageClassName ? { storageClassName: minio.storage.storageClassName } : {}) },
    selector: {},
    fields: { servers: 'spec.minio.replicas', drivesPerServer: 'spec.minio.drivesPerServer',
      size: 'spec.minio.storage.size', storageClassName: 'spec.minio.storage.storageClassName' },
  };
  const more = (minio.pools ?? []).map((pool, i): MinioPool => {
    const at = `spec.minio.pools[${i}]`;
    const storageClassName = pool.storage?.storageClassName ?? minio.storage.storageClassName;
    return {
      index: i + 1,
      statefulSet: `${workload}-${pool.name}`,
      servers: pool.servers,
      drivesPerServer: pool.drivesPerServer,
      storage: { size: pool.storage?.size ?? minio.storage.size, ...(storageClassName ? { storageClassName } : {}) },
      selector: { [POOL_LABEL]: pool.name },
      fields: { servers: `${at}.servers`, drivesPerServer: `${at}.drivesPerServer`, size: `${at}.storage.size`,
        storageClassName: `${at}.storage.storageClassName` },
    };
  });
  return [first, ...more];
}

/** The drive argument of one server: `/data1`, or the ellipsis `/data{1...D}` for several drives. */
export function driveArgument(drives: number): string {
  return drives === 1 ? drivePath(1) : `/data{1...${drives}}`;
}

/** The per-pod DNS name of server `ordinal` of a pool. */
export function poolServerHost(ref: DeploymentRef, spec: DefaultedKMSDeploymentSpec, pool: MinioPool,
  ordinal: number | string): string
{
  return `${pool.statefulSet}-${ordinal}.${
    minioNames(ref.name).headless
  }.${ref.namespace}.svc.${spec.tls.clusterDomain}`;
}

/** One pool in MinIO's ellipsis form: `http(s)://<sts>-{0...N-1}.<headless>.<ns>.svc.<domain>/data{1...D}`. */
export function poolEndpoint(ref: DeploymentRef, spec: DefaultedKMSDeploymentSpec, pool: MinioPool): string {
  const scheme = spec.minio.tls.enabled ? 'https' : 'http';
  const servers = pool.servers === 1 ? '0' : `{0...${pool.servers - 1}}`;
  return `${scheme}://${poolServerHost(ref, spec, pool, servers)}${driveArgument(pool.drivesPerServer)}`;
}
