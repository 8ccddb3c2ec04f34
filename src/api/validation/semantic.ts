// Checks the API server does not make: they need knowledge of what MinIO accepts. The operator
// reports them as SpecValid=False.
import type { DefaultedKMSDeploymentSpec } from '../types.generated.ts';
import type { FieldError } from './field-error.ts';

// MinIO splits all drives of a pool into erasure sets of 2 to 16 drives of equal size, and each
// set must spread symmetrically over the servers.
const erasureSetSizes = Array.from({ length: 15 }, (_, i) => i + 2);

/** Sizes of erasure set MinIO can form from `servers` servers with `drives` drives each. */
export function possibleErasureSetSizes(servers: number, drives: number): number[] {
  const total = servers * drives;
  return erasureSetSizes.filter((size) => total % size === 0 && (size % servers === 0 || servers % size === 0));
}

/** Problems of one pool's layout: `servers` x `drives`, named by `field`. */
function poolLayout(servers: number, drives: number, field: string): FieldError[] {
  // Values the schema rejects (reported there) are not judged again.
  if (!Number.isInteger(servers) || !Number.isInteger(drives) || servers < 1 || drives < 1) return [];
  const total = servers * drives;
  const layout = `${servers} servers x ${drives} drive${drives === 1 ? '' : 's'} = ${total} drives`;
  if (total < 4) {
    return [{
      path: field,
      message:
        `a distributed MinIO needs at least 4 drives in total (${layout}); use 1 replica, or raise replicas or drivesPerServer`,
      origin: 'operator',
    }];
  }
  if (possibleErasureSetSizes(servers, drives).length === 0) {
    return [{
      path: field,
      message:
        `MinIO cannot split ${layout} into equal erasure sets of 2 to 16 drives spread evenly over the servers; choose a total with such a divisor (e.g. 4, 8, 12 or 16 drives)`,
      origin: 'operator',
    }];
  }
  return [];
}

function minioLayout(minio: DefaultedKMSDeploymentSpec['minio']): FieldError[] {
  const { replicas, drivesPerServer } = minio;
  // Values the schema rejects (reported there) are not judged again; comparing them could even throw.
  if (!Number.isInteger(replicas)) return [];
  const pools = Array.isArray(minio.pools) ? minio.pools : [];
  const first = replicas > 1 ? poolLayout(replicas, drivesPerServer, 'spec.minio.replicas') : [];
  if (pools.length === 0) return first;
  // A single server uses local paths; MinIO cannot mix those with the URLs of other pools.
  const single: FieldError[] = replicas === 1
    ? [{ path: 'spec.minio.pools',
      message:
        'server pools need a distributed first pool (spec.minio.replicas > 1): a single server cannot be joined by more pools',
      origin: 'operator' }]
    : [];
  return [...first, ...single,
    ...pools.flatMap((pool,
      i) => (pool ? poolLayout(pool.servers, pool.drivesPerServer, `spec.minio.pools[${i}].servers`) : [])
    )];
}

/** Semantic checks on a spec that already passed the schema (defaults applied). */
export function semanticChecks(spec: DefaultedKMSDeploymentSpec): FieldError[] {
  return [...minioLayout(spec.minio)];
}
