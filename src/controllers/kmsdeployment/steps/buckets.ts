// Stage 9 of the data path (BucketsReady): the buckets of spec.minio.buckets exist in MinIO with
// their default encryption (SSE-KMS under their key), versioning and object lock. Through MinIO's
// S3 API with the root credentials the operator manages (src/minio/bucket-client.ts; the AWS SDK is
// loaded only when a deployment declares buckets). Nothing here deletes a bucket or an object: a
// bucket that leaves the spec is no longer looked at. Reads every reconcile, writes only what differs.
import { ConditionReason, EventReason } from '../../../api/reasons.ts';
import { ConditionType } from '../../../api/constants.ts';
import type { DefaultedKMSDeploymentSpec } from '../../../api/index.ts';
import { BucketCallError, type BucketClientOptions, type BucketOps,
  connectBuckets } from '../../../minio/bucket-client.ts';
import { describeActions, type DesiredBucket, desiredBuckets, planBucket } from '../../../minio/bucket-plan.ts';
import { rootCredentialsSecretName } from '../../../minio/env.ts';
import { CA_BUNDLE_KEY, minioNames, ROOT_SECRET_KEYS } from '../../../minio/names.ts';
import { minioEndpoint } from '../../../minio/services.ts';
import { resources } from '../../../runtime/kube/resources.ts';
import type { StepResult } from '../../../runtime/step.ts';
import { certificateSecretName, userCertificateSecret } from '../../../workload/certificates.ts';
import type { DeploymentRef } from '../../../workload/names.ts';
import { secretValue } from '../../../workload/secret-data.ts';
import { certificateSecret, childSecret, dataPathStep, deploymentRef, type KMSDeploymentStep,
  type KMSDeploymentStepContext, waitingForCertificates } from '../context.ts';

export interface BucketsStepOptions {
  /** Where the operator reaches MinIO's S3 API; default the MinIO Service (status.minio.endpoint). */
  endpoint?: (ref: DeploymentRef, spec: DefaultedKMSDeploymentSpec) => string;
  /** Opens the S3 client; default connectBuckets (the AWS SDK). */
  connect?: (options: BucketClientOptions) => Promise<BucketOps>;
}

interface BucketStatus {
  name: string;
  key?: string;
  state: 'Ready' | 'Failed';
  message: string;
}

const RETRY_MS = 30_000;

async function credentials(
  context: KMSDeploymentStepContext,
): Promise<{ accessKeyId: string; secretAccessKey: string } | { missing: string }> {
  const { spec } = context;
  const name = rootCredentialsSecretName(deploymentRef(context), spec);
  // The user's Secret is outside the operator's label-narrowed caches: read it directly.
  const secret = spec.minio.rootCredentials
    ? await context.kube.get(resources.Secret, context.object.metadata.namespace, name)
    : childSecret(context, name);
  const [accessKeyId, secretAccessKey] = [secretValue(secret, ROOT_SECRET_KEYS.user),
    secretValue(secret, ROOT_SECRET_KEYS.password)];
  if (!accessKeyId || !secretAccessKey) {
    return { missing: `Secret ${name} has no ${ROOT_SECRET_KEYS.user} and ${ROOT_SECRET_KEYS.password} yet` };
  }
  return { accessKeyId, secretAccessKey };
}

/**
 * What the operator verifies MinIO's S3 certificate with when MinIO serves TLS: the CA bundle the pki
 * step publishes in `<name>-minio-ca` (what MinIO's servers trust, the previous CA too during a
 * rotation), else the ca.crt of the certificate Secret MinIO serves (the operator's, or the user's
 * spec.minio.tls.certificateSecretRef as the pki step validated it). No caPem: plain HTTP, or a
 * certificate of the user's that came without a CA, verified against the system's roots like a public one.
 */
function minioCa(context: KMSDeploymentStepContext): { caPem?: string } | { missing: string } {
  const { spec } = context;
  if (!spec.minio.tls.enabled) return {};
  const ref = deploymentRef(context);
  const configMap = minioNames(ref.name).caConfigMap;
  const published =
    (context.children.get('ConfigMap', configMap) ?? context.cache.get('ConfigMap', ref.namespace, configMap)) as {
      data?: Record<string, string>;
    } | undefined;
  const bundle = published?.data?.[CA_BUNDLE_KEY];
  if (bundle?.trim()) return { caPem: bundle };
  const certificate = certificateSecretName(spec, ref.name, 'minioServer');
  const caPem = secretValue(certificateSecret(context, certificate), 'ca.crt');
  if (caPem) return { caPem };
  if (userCertificateSecret(spec, 'minioServer')) return {};
  return { missing: `neither ConfigMap ${configMap} nor Secret ${certificate} has MinIO's CA (ca.crt) yet` };
}

async function reconcileBucket(ops: BucketOps,
  bucket: DesiredBucket): Promise<{ status: BucketStatus; done: string | undefined }>
{
  const observed = await ops.inspect(bucket.name, bucket.objectLock);
  const plan = planBucket(bucket, observed);
  for (const action of plan.actions) {
    if (action === 'create') await ops.create(bucket.name, bucket.objectLock);
    else if (action === 'enableVersioning') await ops.enableVersioning(bucket.name);
    else await ops.setDefaultKmsEncryption(bucket.name, bucket.key);
  }
  const done = plan.actions.length ? describeActions(bucket.name, bucket.key, plan.actions) : undefined;
  if (plan.problem) {
    return { status: { name: bucket.name, key: bucket.key, state: 'Failed', message: plan.problem }, done };
  }
  return {
    status: { name: bucket.name, key: bucket.key, state: 'Ready',
      message: done ?? describeActions(bucket.name, bucket.key, []) },
    done,
  };
}

function summary(statuses: readonly BucketStatus[]): StepResult {
  const failed = statuses.filter((s) => s.state === 'Failed');
  if (failed.length === 0) {
    const shown = statuses.slice(0, 10).map((s) => `${s.name} (key ${s.key})`).join(', ');
    return { status: 'True', reason: ConditionReason.BucketsReady,
      message: `${statuses.length} bucket${statuses.length === 1 ? '' : 's'} with their default encryption: ${shown}${
        statuses.length > 10 ? ', ...' : ''
      }` };
  }
  const message = failed.slice(0, 5).map((s) => s.message).join('; ') +
    (failed.length > 5 ? `; and ${failed.length - 5} more` : '');
  // A failed call is retried; a bucket that cannot become what the spec says (object lock) waits for a change.
  const callFailed = failed.some((s) => !s.message.includes('object lock'));
  return { status: 'False', reason: ConditionReason.BucketsFailed, message,
    ...(callFailed ? { requeueAfterMs: RETRY_MS } : {}) };
}

export function bucketsStep(options: BucketsStepOptions = {}): KMSDeploymentStep {
  const endpointOf = options.endpoint ?? minioEndpoint;
  const connect = options.connect ?? connectBuckets;
  return dataPathStep('buckets', ConditionType.BucketsReady, async (context) => {
    const { spec, object } = context;
    const buckets = desiredBuckets(spec);
    if (buckets.length === 0) {
      return { status: 'True', reason: ConditionReason.NotUsed, message: 'spec.minio.buckets is empty' };
    }
    const creds = await credentials(context);
    if ('missing' in creds) {
      return { status: 'False', reason: ConditionReason.RootCredentialsMissing, message: creds.missing,
        requeueAfterMs: RETRY_MS };
    }
    const ca = minioCa(context);
    if ('missing' in ca) return waitingForCertificates(ca.missing, RETRY_MS);
    let ops: BucketOps;
    try {
      ops = await connect({ endpoint: endpointOf(deploymentRef(context), spec), ...ca, ...creds });
    } catch (err) {
      return { status: 'False', reason: ConditionReason.BucketsFailed,
        message: `cannot open an S3 client for MinIO: ${(err as Error).message}`, requeueAfterMs: RETRY_MS };
    }
    const statuses: BucketStatus[] = [];
    try {
      for (const bucket of buckets) {
        try {
          const { status, done } = await reconcileBucket(ops, bucket);
          statuses.push(status);
          if (done) {
            await context.events.emit(object, { type: 'Normal', reason: EventReason.BucketConfigured,
              action: 'Configure', note: done });
          }
        } catch (err) {
          if (!(err instanceof BucketCallError)) throw err;
          statuses.push({ name: bucket.name, key: bucket.key, state: 'Failed', message: err.message });
        }
      }
    } finally {
      ops.close();
    }
    context.status['buckets'] = statuses;
    return summary(statuses);
  });
}
