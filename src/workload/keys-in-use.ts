// Which master keys MinIO encrypts new data with: its default key (spec.minio.keyName) and the key of
// each bucket's default encryption. KES's policy for MinIO grants generating data keys with exactly
// these (src/kes/config.ts), and the buckets step sets them on the buckets (src/minio/bucket-plan.ts).
import type { DefaultedKMSDeploymentSpec } from '../api/index.ts';

type Bucket = NonNullable<DefaultedKMSDeploymentSpec['minio']['buckets']>[number];

/** The master key of a bucket's default encryption: its own key, else MinIO's default key. */
export function bucketKey(spec: DefaultedKMSDeploymentSpec, bucket: Pick<Bucket, 'key'>): string {
  return bucket.key ?? spec.minio.keyName;
}

/** MinIO's default key first, then the buckets' keys, each once. */
export function keysInUse(spec: DefaultedKMSDeploymentSpec): string[] {
  return [...new Set([spec.minio.keyName, ...(spec.minio.buckets ?? []).map((b) => bucketKey(spec, b))])];
}
