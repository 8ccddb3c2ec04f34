// What the operator does to one bucket of spec.minio.buckets, decided from the spec and from how
// the bucket stands in MinIO. Pure. The plan only ever creates a bucket, enables versioning and
// sets the default encryption: nothing in it deletes a bucket or an object, suspends versioning or
// touches a bucket's contents.
import type { DefaultedKMSDeploymentSpec } from '../api/index.ts';
import { bucketKey } from '../workload/keys-in-use.ts';
import type { ObservedBucket } from './bucket-client.ts';

/** One bucket as the operator keeps it. */
export interface DesiredBucket {
  name: string;
  /** The master key of its default encryption: the bucket's key, else spec.minio.keyName. */
  key: string;
  versioning: boolean;
  objectLock: boolean;
}

export type BucketAction = 'create' | 'enableVersioning' | 'setEncryption';

export interface BucketPlan {
  actions: BucketAction[];
  /** Why the bucket cannot be as the spec says (the actions still run). */
  problem: string | undefined;
}

/** The buckets of the spec with their keys resolved. */
export function desiredBuckets(spec: DefaultedKMSDeploymentSpec): DesiredBucket[] {
  return (spec.minio.buckets ?? []).map((b) => ({
    name: b.name,
    key: bucketKey(spec, b),
    versioning: b.versioning ?? false,
    objectLock: b.objectLock ?? false,
  }));
}

export function planBucket(desired: DesiredBucket, observed: ObservedBucket): BucketPlan {
  if (!observed.exists) {
    // Object lock implies versioning; MinIO enables it with the lock.
    return {
      actions: ['create', ...(desired.versioning && !desired.objectLock ? ['enableVersioning' as const] : []),
        'setEncryption'],
      problem: undefined,
    };
  }
  const actions: BucketAction[] = [];
  if (desired.versioning && observed.versioning !== 'Enabled') actions.push('enableVersioning');
  if (observed.algorithm !== 'aws:kms' || observed.kmsKey !== desired.key) actions.push('setEncryption');
  const problem = desired.objectLock && observed.objectLock === false
    ? `bucket ${desired.name} exists without object lock, which S3 can only enable when a bucket is created; the operator never re-creates a bucket`
    : undefined;
  return { actions, problem };
}

/** What a plan did, for the bucket's status message. */
export function describeActions(name: string, key: string, actions: readonly BucketAction[]): string {
  const done = actions.map((action) =>
    ({ create: 'created', enableVersioning: 'enabled versioning',
      setEncryption: `set the default encryption to SSE-KMS with key ${key}` })[action]
  );
  return done.length ? `${done.join(', ')} (bucket ${name})` : `default encryption SSE-KMS with key ${key}`;
}
