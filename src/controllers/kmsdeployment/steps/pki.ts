// Stage 3 of the data path (CertificatesReady): the CA, the KES server certificate, the client
// identities of MinIO and the operator (Vault mode) and MinIO's S3 server certificate (spec.minio.tls),
// issued and renewed by src/pki and declared here as owned Secrets, plus the ConfigMap that publishes
// the CA S3 clients trust. Later steps read them back through the declared children (identities, TLS material) and
// stamp the checksum of what their pods mount on the pod template, which this step reads back to
// learn whether a rollout finished (the CA rotation advances only then).
import { ConditionReason, EventReason } from '../../../api/reasons.ts';
import { decodeSecretData, encodeSecretData } from '../../../runtime/kube/secret-data.ts';
import { ConditionType } from '../../../api/constants.ts';
import { type DefaultedKMSDeploymentSpec, durationMs } from '../../../api/index.ts';
import { kesNames } from '../../../workload/names.ts';
import { minioPools } from '../../../minio/pools.ts';
import { buildMinioCAConfigMap } from '../../../minio/ca-bundle.ts';
import { certificatesStatus, kesServerDnsNames, type LeafKind, leafKinds, materializePki, minioServerDnsNames,
  type ObservedSecrets, observePki, type PkiDesired, type PkiPlan, pkiPolicyFor, type PkiSecretNames, pkiSecretNames,
  planCertificates, type RenderedSecret, renderPkiSecrets, secretsChecksum,
  validatePkiPolicy } from '../../../pki/index.ts';
import { readFresh } from '../../../runtime/cache.ts';
import { listNote } from '../../../runtime/events.ts';
import { ifControlledBy } from '../../../runtime/children.ts';
import { type KubeObject, resources } from '../../../runtime/kube/resources.ts';
import type { StepResult } from '../../../runtime/step.ts';
import { mountedLeaves, type PkiWorkload, secretData, wantedLeafKinds,
  workloadSettled } from '../../../workload/certificates.ts';
import { dataPathStep, type KMSDeploymentStep, type KMSDeploymentStepContext } from '../context.ts';
import { extraTrustedPem, fingerprintsOf, readUserCertificates, USER_CERTIFICATE_POLL_MS, userCertificateRefProblem,
  type ValidatedUserCertificate, validateUserCertificates } from './pki-user-certificates.ts';

const TLS_SECRET_TYPE = 'kubernetes.io/tls';
/** The user's CA Secret is not watched: while it is unusable, look at it again this often. */
const INVALID_CA_POLL_MS = 60_000;
/** A renewal months away is still checked daily (timers cannot wait longer than ~24.8 days anyway). */
const MAX_REQUEUE_MS = 24 * 3_600_000;
const MIN_REQUEUE_MS = 1_000;

/** What spec.tls asks for, or the spec.tls fields that cannot be used. Pure. */
export function pkiDesiredFor(spec: DefaultedKMSDeploymentSpec, ref: { name: string; namespace: string }): {
  desired: PkiDesired;
} | { errors: string[] } {
  const policy = pkiPolicyFor({ validityMs: durationMs(spec.tls.validity),
    renewBeforeMs: durationMs(spec.tls.renewBefore) });
  const errors = validatePkiPolicy(policy);
  if (errors.length > 0) return { errors };
  const kinds = wantedLeafKinds(spec);
  return {
    desired: {
      ...policy,
      kinds,
      serverDnsNames: kinds.includes('kesServer')
        ? kesServerDnsNames(ref.name, ref.namespace, spec.tls.clusterDomain)
        : [],
      ...(kinds.includes('minioServer')
        ? { minioServerDnsNames: minioServerDnsNames(ref.name, ref.namespace, spec.tls.clusterDomain) }
        : {}),
    },
  };
}

/** A spec.tls.caSecretRef the operator cannot honour: it names a Secret the operator itself writes. */
export function caSecretRefProblem(caSecretName: string | undefined, names: PkiSecretNames): string | undefined {
  if (caSecretName === undefined) return undefined;
  const own = [names.ca, ...leafKinds.map((kind) => names.leaves[kind])];
  if (!own.includes(caSecretName)) return undefined;
  return `CA Secret ${
    JSON.stringify(caSecretName)
  } (spec.tls.caSecretRef): names a Secret the operator manages itself (${own.join(', ')}); name a Secret of your own`;
}

function workloadsSettled(context: KMSDeploymentStepContext, observed: ObservedSecrets): boolean {
  const { name, namespace = '' } = context.object.metadata as { name: string; namespace?: string };
  const checksum = (workload: PkiWorkload): string => {
    const kinds = mountedLeaves(context.spec, workload);
    return secretsChecksum(observed.leaves, kinds);
  };
  const minio = checksum('minio');
  return (
    workloadSettled('Deployment', context.cache.get('Deployment', namespace, kesNames(name).workload),
      checksum('kes')) &&
    minioPools({ name, namespace }, context.spec).every((pool) =>
      workloadSettled('StatefulSet', context.cache.get('StatefulSet', namespace, pool.statefulSet), minio)
    )
  );
}

/** The Secret as an owned child: always type kubernetes.io/tls, values as base64 in sorted key order. */
export function secretChild(secret: RenderedSecret): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secret.name, labels: { 'app.kubernetes.io/component': 'certificates' } },
    type: secret.type,
    data: encodeSecretData(secret.stringData),
  };
}

/** The notes of the CertificateIssued events: what was issued and why, by Secret name; never any certificate or key content. */
export function issuedSummary(plan: PkiPlan, names: PkiSecretNames): string[] {
  const decisions = [[names.ca, plan.ca] as const,
    ...leafKinds.map((kind) => [names.leaves[kind], plan.leaves[kind]] as const)];
  return decisions.flatMap((
    [name, decision],
  ) => (decision?.action === 'issue' ? [`${name}: ${decision.reason} (${decision.message})`] : []));
}

/** The requeueAfter of the next renewal: at renewAt, but at least 1 s and at most a day away. */
export function requeueForRenewal(renewAt: Date | undefined, now: Date): number | undefined {
  if (!renewAt) return undefined;
  return Math.min(MAX_REQUEUE_MS, Math.max(MIN_REQUEUE_MS, renewAt.getTime() - now.getTime()));
}

async function readSecrets(context: KMSDeploymentStepContext, names: PkiSecretNames, caSecretName: string,
  kinds: readonly LeafKind[]): Promise<Map<string, KubeObject | undefined>>
{
  // Never older than this process's last write: a cache that has not seen the Secrets written a moment
  // ago would make the operator issue a new CA and new client keys, i.e. new KES identities. Once the
  // cache has caught up (the steady state), the reads come from it.
  const namespace = context.object.metadata.namespace ?? '';
  const wanted = [caSecretName, ...kinds.map((kind) => names.leaves[kind])];
  const found = await Promise.all(
    wanted.map((name) => readFresh(context.cache, context.kube, 'Secret', namespace, name)),
  );
  // The user's CA Secret is theirs; one of ours that this KMSDeployment does not control is someone
  // else's object: never read as our CA or key, never deleted as mistyped (ChildConflict instead).
  const userCA = caSecretName !== names.ca;
  return new Map(
    wanted.map((name,
      i) => [name, userCA && name === caSecretName ? found[i] : ifControlledBy(found[i], context.object)]
    ),
  );
}

/**
 * A Secret's type cannot change. One of ours found with another type (deleted and re-created by
 * hand) is deleted, so that the apply that follows creates it again as kubernetes.io/tls.
 */
async function dropMistypedSecrets(context: KMSDeploymentStepContext, secrets: Map<string, KubeObject | undefined>,
  ours: string[]): Promise<void>
{
  for (const name of ours) {
    const live = secrets.get(name);
    if (!live || (live as { type?: string }).type === TLS_SECRET_TYPE) continue;
    context.logger.info({ secret: name, type: (live as { type?: string }).type },
      'deleting a certificate Secret of the wrong type');
    await context.kube.delete(resources.Secret, context.object.metadata.namespace, name, live.metadata.uid);
  }
}

export function pkiStep(): KMSDeploymentStep {
  return dataPathStep('pki', ConditionType.CertificatesReady, async (context) => {
    const { spec, object, now } = context;
    const ref = { name: object.metadata.name ?? '', namespace: object.metadata.namespace ?? '' };
    const wanted = pkiDesiredFor(spec, ref);
    if ('errors' in wanted) {
      return { status: 'False', reason: ConditionReason.InvalidSpec, message: wanted.errors.join('; ') };
    }
    const kinds = wanted.desired.kinds ?? [];
    const names = pkiSecretNames(ref.name);
    const userReads = await readUserCertificates(context);
    if (kinds.length === 0 && userReads.length === 0) return notUsed(spec);
    const userCASecret = spec.tls.caSecretRef?.name;
    const refProblem = caSecretRefProblem(userCASecret, names) ?? userCertificateRefProblem(userReads, names);
    if (refProblem) {
      return { status: 'False', reason: refProblem.startsWith('CA ')
        ? ConditionReason.InvalidCASecret
        : ConditionReason.InvalidCertificateSecret, message: refProblem };
    }
    const caSecretName = userCASecret ?? names.ca;

    const secrets = kinds.length > 0
      ? await readSecrets(context, names, caSecretName, kinds)
      : new Map<string, KubeObject | undefined>();
    const contents = (name: string) => decodeSecretData(secretData(secrets.get(name)));
    const observed: ObservedSecrets = {
      ca: contents(caSecretName),
      leaves: Object.fromEntries(kinds.map((kind) => [kind, contents(names.leaves[kind])])),
    };
    const observation = kinds.length > 0
      ? await observePki(observed, { caSecretName, userCA: userCASecret !== undefined, now })
      : undefined;
    const user = await validateUserCertificates(context, userReads,
      observation?.ca.ok ? observation.ca.authority.certificate : undefined);
    if ('problem' in user) return refuse(context, ConditionReason.InvalidCertificateSecret, user.problem);
    const userPoll = user.certificates.length > 0 ? USER_CERTIFICATE_POLL_MS : undefined;
    for (const certificate of user.certificates) {
      observed.leaves[certificate.kind] = decodeSecretData(secretData(certificate.secret));
    }
    const minioCA = user.certificates.find((c) => c.kind === 'minioServer');
    if (!observation) {
      // Only the user's certificates (StaticKey mode, MinIO's certificate brought): nothing to issue.
      if (minioCA?.caPem) context.children.add(buildMinioCAConfigMap(ref, minioCA.caPem) as unknown as KubeObject);
      const message = `the certificates are the user's (${
        user.certificates.map((c) => c.secretName).join(', ')
      }), valid until ${earliest(user.certificates)}`;
      return { status: 'True', reason: ConditionReason.UserProvided, message,
        requeueAfterMs: USER_CERTIFICATE_POLL_MS };
    }
    const extraPem = extraTrustedPem(user.certificates);
    const desired = extraPem ? { ...wanted.desired, extraTrustedPem: extraPem } : wanted.desired;
    // The user's KES issuer in the bundle is no CA of the deployment's: never a rotation's "previous CA".
    const extraPrints = fingerprintsOf(extraPem);
    const planned = extraPrints.size === 0
      ? observation
      : { ...observation,
        distributedCAs: new Set([...observation.distributedCAs].filter((print) => !extraPrints.has(print))) };
    const result = planCertificates({ desired, observation: planned, now,
      workloadsSettled: workloadsSettled(context, observed) });
    if (!result.ok) {
      // Nothing is declared: the leaves stay as they are, and nothing is pruned (the run stops here).
      const { condition } = certificatesStatus(result);
      return refuse(context, condition.reason, condition.message);
    }

    const material = await materializePki({ plan: result.plan, observation: planned, desired, deployment: ref, now });
    const rendered = renderPkiSecrets(material, names);
    const ours = [...(rendered.ca ? [rendered.ca] : []), ...kinds.flatMap((kind) => rendered.leaves[kind] ?? [])];
    await dropMistypedSecrets(context, secrets, ours.map((secret) => secret.name));
    for (const secret of ours) context.children.add(secretChild(secret));
    // S3 clients verify MinIO with the same trust bundle the servers mount (current CA first, and
    // the previous one during a rotation), published where reading it needs no access to Secrets.
    const published = kinds.includes('minioServer') ? material.trustBundlePem : minioCA?.caPem;
    if (published) context.children.add(buildMinioCAConfigMap(ref, published) as unknown as KubeObject);

    const issued = issuedSummary(result.plan, names);
    for (const note of issued) context.logger.info({ issued: note }, 'certificate issued');
    if (issued.length > 0) {
      await context.events.emit(object, { type: 'Normal', reason: EventReason.CertificateIssued,
        action: 'IssueCertificates', note: listNote(issued) });
    }
    const status = certificatesStatus(result, material);
    if (status.certificates) context.status['certificates'] = status.certificates;
    if (status.identities) {
      context.handoff.kesIdentities = { minioIdentity: status.identities.minio,
        operatorIdentity: status.identities.operator };
    }
    const { condition } = status;
    const renewal = requeueForRenewal(material.renewAt, now);
    const requeueAfterMs = userPoll === undefined ? renewal : Math.min(renewal ?? userPoll, userPoll);
    return { status: condition.status, reason: condition.reason, message: condition.message, requeueAfterMs };
  });
}

/** An unusable CA or certificate Secret: a Warning, nothing declared, and a look again in a minute (it is not watched). */
async function refuse(context: KMSDeploymentStepContext, reason: string, message: string): Promise<StepResult> {
  await context.events.emit(context.object, { type: 'Warning', reason, action: 'IssueCertificates', note: message });
  return { status: 'False', reason, message, requeueAfterMs: INVALID_CA_POLL_MS };
}

function earliest(certificates: readonly ValidatedUserCertificate[]): string {
  return new Date(Math.min(...certificates.map((c) => c.certificate.info.notAfter.getTime()))).toISOString();
}

function notUsed(spec: DefaultedKMSDeploymentSpec): StepResult {
  return { status: 'True', reason: ConditionReason.NotUsed,
    message:
      `mode ${spec.mode} runs without KES and spec.minio.tls.enabled is false: the operator issues no certificate` };
}
