// Which master keys MinIO may still generate data keys with while a change of its keys rolls out. KES's
// policy for MinIO grants generating with the keys in use (src/workload/keys-in-use.ts); dropping a key
// from it the moment the spec stops using it would refuse MinIO servers that still run the previous
// template, and buckets whose default encryption is not switched yet (seen in the e2e default-key
// rotation: hundreds of failed PUTs). So the grant also keeps, in the manner of the CA rotation's steps:
// - the key each MinIO StatefulSet's template names, until the MinIO step has switched it;
// - every key the live KES config grants, while a MinIO StatefulSet still replaces pods;
// - each bucket's key as last found (status.buckets), until the buckets step has switched it.
// Only keys of spec.kes.keys reach the policy (minioPolicyPaths filters by them), so a hand-edited
// config Secret cannot widen it.
import type { V1StatefulSet } from '@kubernetes/client-node';
import { generateKeysOf } from '../../../kes/config.ts';
import { KES_CONFIG_KEY } from '../../../kes/names.ts';
import { minioEnvNames } from '../../../minio/env.ts';
import { minioPools } from '../../../minio/pools.ts';
import { kesNames } from '../../../workload/names.ts';
import { rolledOutAsIs } from '../../../workload/rollout.ts';
import { secretValue } from '../../../workload/secret-data.ts';
import { childSecret, deploymentRef, type KMSDeploymentStepContext } from '../context.ts';

function templateKeys(live: V1StatefulSet): string[] {
  return (live.spec?.template?.spec?.containers ?? []).flatMap((container) =>
    (container.env ?? []).flatMap((env) => (env.name === minioEnvNames.kesKeyName && env.value ? [env.value] : []))
  );
}

/** Keys to grant MinIO generate with besides the keys the spec uses; see the file comment. */
export function keysStillInUse(context: KMSDeploymentStepContext): string[] {
  const ref = deploymentRef(context);
  const statefulSets = minioPools(ref, context.spec).flatMap((pool) => {
    const live = context.cache.get('StatefulSet', ref.namespace, pool.statefulSet) as V1StatefulSet | undefined;
    return live ? [live] : [];
  });
  const keys = statefulSets.flatMap(templateKeys);
  if (statefulSets.some((live) => !rolledOutAsIs('StatefulSet', live))) {
    keys.push(...generateKeysOf(secretValue(childSecret(context, kesNames(ref.name).configSecret), KES_CONFIG_KEY)));
  }
  const buckets = (context.object.status as { buckets?: { key?: unknown }[] } | undefined)?.buckets ?? [];
  keys.push(...buckets.flatMap((bucket) => (typeof bucket.key === 'string' ? [bucket.key] : [])));
  return [...new Set(keys)];
}
