// Stage 7 of the data path (MinIOAvailable): root credentials (the user's, or generated once into
// <name>-minio-root), the static key in StaticKey mode (generated once), the StatefulSet of each server
// pool (minio-pools.ts) and the two Services. Changes that would lose data are refused, not applied.
import { ConditionReason } from '../../../api/reasons.ts';
import { ConditionType } from '../../../api/constants.ts';
import { ifControlledBy } from '../../../runtime/children.ts';
import { type KubeObject, resources } from '../../../runtime/kube/resources.ts';
import type { StepResult } from '../../../runtime/step.ts';
import { checksumOf } from '../../../workload/checksum.ts';
import { secretDataText, secretValue } from '../../../workload/secret-data.ts';
import { rolledOutAsIs, type Rollout, rolloutOf } from '../../../workload/rollout.ts';
import { buildRootCredentialsSecret, buildStaticKeySecret, generateRootCredentials, generateStaticKey,
  type RandomBytes } from '../../../minio/credentials.ts';
import { rootCredentialsSecretName } from '../../../minio/env.ts';
import { minioNames, ROOT_SECRET_KEYS, STATIC_KEY_SECRET_KEY } from '../../../minio/names.ts';
import { buildMinioHeadlessService, buildMinioService, minioEndpoint } from '../../../minio/services.ts';
import { buildMinioStatefulSet, minioEndpoints, type MinioReadiness } from '../../../minio/statefulset.ts';
import { minioReadiness, readinessOf } from '../../../minio/readiness.ts';
import { minioPools } from '../../../minio/pools.ts';
import { declarePool } from './minio-pools.ts';
import { growDrives } from './minio-drives.ts';
import type { V1StatefulSet } from '@kubernetes/client-node';
import type { KMSDeploymentStep, KMSDeploymentStepContext } from '../context.ts';
import { availabilityOf, certificateSecret, dataPathStep, deploymentRef, waitingForCertificates } from '../context.ts';
import { mountedCertificatesChecksum, userCertificateSecret,
  withCertificatesChecksum } from '../../../workload/certificates.ts';

const POLL_MS = 10_000;
// The live StatefulSet still runs /minio/health/ready (src/minio/readiness.ts): its rollout is not the end.
const READINESS_BACK = 'then the servers restart once more, to get the write-quorum readiness check back ' +
  "(after a change of MinIO's environment, or an operator upgrade)";

type Outcome<T> = { value: T } | { result: StepResult };

async function getSecret(context: KMSDeploymentStepContext, name: string,
  generated = true): Promise<KubeObject | undefined>
{
  // Read generated Secrets from the API server, not the cache: a cache that lags behind a Secret
  // created a moment ago must never make the operator generate (and overwrite) it again. A generated
  // one this KMSDeployment does not control is someone else's: not used, and its apply is refused.
  const live = await context.kube.get(resources.Secret, context.object.metadata.namespace, name);
  return generated ? ifControlledBy(live, context.object) : live;
}

async function rootCredentials(context: KMSDeploymentStepContext,
  random: RandomBytes | undefined): Promise<Outcome<string>>
{
  const ref = deploymentRef(context);
  const name = rootCredentialsSecretName(ref, context.spec);
  const live = await getSecret(context, name, !context.spec.minio.rootCredentials);
  if (context.spec.minio.rootCredentials) {
    if (!live) {
      return {
        result: { status: 'False', reason: ConditionReason.RootCredentialsMissing,
          message: `Secret ${name} (spec.minio.rootCredentials) does not exist`, requeueAfterMs: POLL_MS },
      };
    }
    const [user, password] = [secretValue(live, ROOT_SECRET_KEYS.user), secretValue(live, ROOT_SECRET_KEYS.password)];
    if (!user || user.length < 3 || !password || password.length < 8) {
      const message =
        `Secret ${name} needs keys ${ROOT_SECRET_KEYS.user} (at least 3 characters) and ${ROOT_SECRET_KEYS.password} (at least 8 characters)`;
      return { result: { status: 'False', reason: ConditionReason.RootCredentialsInvalid, message } };
    }
    return { value: secretDataText(live) };
  }
  const user = secretValue(live, ROOT_SECRET_KEYS.user);
  const password = secretValue(live, ROOT_SECRET_KEYS.password);
  const credentials = user && password ? { rootUser: user, rootPassword: password } : generateRootCredentials(random);
  const secret = buildRootCredentialsSecret(ref, credentials);
  context.children.add(secret as unknown as KubeObject);
  return { value: secretDataText(secret) };
}

async function staticKey(context: KMSDeploymentStepContext, random: RandomBytes | undefined): Promise<Outcome<string>> {
  const ref = deploymentRef(context);
  const name = minioNames(ref.name).staticKeySecret;
  const live = await getSecret(context, name);
  const existing = secretValue(live, STATIC_KEY_SECRET_KEY);
  if (live && existing === undefined) {
    return {
      result: { status: 'False', reason: ConditionReason.StaticKeyInvalid,
        message:
          `Secret ${name} exists without key ${STATIC_KEY_SECRET_KEY}; the operator will not replace a master key` },
    };
  }
  // Never regenerate an existing key: objects encrypted with it would become unreadable.
  const value = existing ?? generateStaticKey(context.spec.minio.keyName, random);
  if (!value.startsWith(`${context.spec.minio.keyName}:`)) {
    return {
      result: { status: 'False', reason: ConditionReason.StaticKeyInvalid,
        message: `Secret ${name} holds a key not named ${context.spec.minio.keyName} (spec.minio.keyName)` },
    };
  }
  let secret;
  try {
    secret = buildStaticKeySecret(ref, value);
  } catch (err) {
    return {
      result: { status: 'False', reason: ConditionReason.StaticKeyInvalid,
        message: `Secret ${name}: ${(err as Error).message}` },
    };
  }
  context.children.add(secret as unknown as KubeObject);
  return { value: secretDataText(secret) };
}

/** The certificate Secrets the pods mount; what is missing, or their data for the checksum. */
function mountedCertificates(context: KMSDeploymentStepContext): Outcome<string[]> {
  const names = minioNames(deploymentRef(context).name);
  const user = userCertificateSecret(context.spec, 'minioServer');
  const wanted = [
    ...(context.spec.mode === 'Vault'
      ? [{ name: names.kesIdentitySecret, keys: ['tls.crt', 'tls.key', 'ca.crt'] }]
      : []),
    ...(context.spec.minio.tls.enabled
      ? [{ name: user ?? names.tlsSecret, keys: user ? ['tls.crt', 'tls.key'] : ['tls.crt', 'tls.key', 'ca.crt'] }]
      : []),
  ];
  const texts: string[] = [];
  for (const { name, keys } of wanted) {
    const secret = certificateSecret(context, name);
    const absent = keys.filter((k) => secretValue(secret, k) === undefined);
    if (!secret || absent.length > 0) {
      const message = secret ? `Secret ${name} has no ${absent.join(', ')} yet` : `Secret ${name} does not exist yet`;
      return { result: waitingForCertificates(message, POLL_MS) };
    }
    texts.push(secretDataText(secret));
  }
  return { value: texts };
}

export interface MinioStepOptions {
  /** Byte source for generated credentials and keys; default crypto.randomBytes. */
  random?: RandomBytes;
}

export function minioStep(options: MinioStepOptions = {}): KMSDeploymentStep {
  return dataPathStep('minio', ConditionType.MinIOAvailable, async (context) => {
    const { spec } = context;
    const ref = deploymentRef(context);
    const certificates = mountedCertificates(context);
    if ('result' in certificates) return certificates.result;
    const root = await rootCredentials(context, options.random);
    if ('result' in root) return root.result;
    const key = spec.mode === 'StaticKey' ? await staticKey(context, options.random) : { value: '' };
    if ('result' in key) return key.result;

    const configChecksum = checksumOf([root.value, key.value, ...certificates.value]);
    const certificatesChecksum = mountedCertificatesChecksum(spec, ref.name, 'minio',
      (name) => certificateSecret(context, name));
    const userSecret = userCertificateSecret(spec, 'minioServer');
    const certificateHasCA = userSecret === undefined ||
      secretValue(certificateSecret(context, userSecret), 'ca.crt') !== undefined;
    context.children.add(buildMinioHeadlessService(ref) as unknown as KubeObject);
    context.children.add(buildMinioService(ref, spec) as unknown as KubeObject);
    const pools = minioPools(ref, spec);
    const layout = pools.length > 1 ? checksumOf(minioEndpoints(ref, spec)) : undefined;
    const distributed = pools.reduce((servers, pool) => servers + pool.servers, 0) > 1;
    const rollouts: Rollout[] = [];
    for (const pool of pools) {
      const build = (readiness: MinioReadiness) =>
        withCertificatesChecksum(
          buildMinioStatefulSet({ deployment: ref, spec, configChecksum, certificateHasCA, readiness }, pool),
          certificatesChecksum,
        );
      const live = context.cache.get('StatefulSet', ref.namespace, pool.statefulSet) as V1StatefulSet | undefined;
      const writeQuorum = build('cluster');
      const readiness = minioReadiness(writeQuorum, live, rolledOutAsIs('StatefulSet', live), distributed);
      const stop = await declarePool(context, pool, readiness === 'cluster' ? writeQuorum : build(readiness), live,
        layout, growDrives);
      if (stop) return stop;
      let rollout = rolloutOf('StatefulSet', live, pool.servers, configChecksum);
      if (distributed && readinessOf(live) === 'ready') {
        rollout = { ...rollout, ready: false, message: `${rollout.message}; ${READINESS_BACK}` };
      }
      rollouts.push(pools.length > 1 ? { ...rollout, message: `${pool.statefulSet}: ${rollout.message}` } : rollout);
    }
    const rollout: Rollout = {
      ready: rollouts.every((r) => r.ready),
      readyReplicas: rollouts.reduce((sum, r) => sum + r.readyReplicas, 0),
      message: rollouts.find((r) => !r.ready)?.message ??
        (pools.length > 1
          ? `${rollouts.reduce((sum, r) => sum + r.readyReplicas, 0)}/${
            pools.reduce((sum, p) => sum + p.servers, 0)
          } pods ready in ${pools.length} server pools`
          : rollouts[0]!.message),
    };
    context.status['minio'] = {
      endpoint: minioEndpoint(ref, spec),
      image: spec.minio.image,
      readyReplicas: rollout.readyReplicas,
      // The pki step publishes a CA unless the user's certificate came without one.
      ...(spec.minio.tls.enabled && certificateHasCA ? { caConfigMap: minioNames(ref.name).caConfigMap } : {}),
    };
    return availabilityOf('MinIO', rollout, 'spec.minio.image', spec.minio.image);
  });
}
