// Stage 5 of the data path (KESAvailable): the KES config Secret, Deployment and Service, built by
// src/kes from the spec and from what earlier stages produced — the client identities (hashed from
// the PKI Secrets) and the AppRole Secret's checksum (from the Vault step).
import { ConditionReason } from '../../../api/reasons.ts';
import { ConditionType } from '../../../api/constants.ts';
import type { DefaultedKMSDeploymentSpec } from '../../../api/index.ts';
import { renderKesConfig } from '../../../kes/config.ts';
import { buildKesConfigSecret, buildKesDeployment, buildKesService,
  buildKesServiceAccount } from '../../../kes/deployment.ts';
import { checksumOf } from '../../../workload/checksum.ts';
import { type DeploymentRef, kesEndpoint, kesNames } from '../../../workload/names.ts';
import { rolloutOf } from '../../../workload/rollout.ts';
import { secretDataText, secretValue } from '../../../workload/secret-data.ts';
import { kesIdentity } from '../../../pki/inspect.ts';
import { pkiSecretNames } from '../../../pki/names.ts';
import { type KubeObject, resources } from '../../../runtime/kube/resources.ts';
import { availabilityOf, certificateSecret, childSecret, dataPathStep, deploymentRef, type KMSDeploymentStep,
  type KMSDeploymentStepContext, waitingForCertificates } from '../context.ts';
import { APPROLE_ANNOTATIONS, appRoleSecretName } from '../../../vault/names.ts';
import { keysStillInUse } from './kes-keys-in-flight.ts';
import { certificateSecretName, mountedCertificatesChecksum,
  withCertificatesChecksum } from '../../../workload/certificates.ts';

const POLL_MS = 10_000;

function identityOf(context: KMSDeploymentStepContext, secretName: string): string | { missing: string } {
  const cert = secretValue(childSecret(context, secretName), 'tls.crt');
  if (!cert) return { missing: `Secret ${secretName} has no tls.crt yet` };
  return kesIdentity(cert);
}

function appRoleChecksum(context: KMSDeploymentStepContext, ref: DeploymentRef): string | undefined {
  if (context.handoff.appRoleChecksum !== undefined) return context.handoff.appRoleChecksum;
  const secret = childSecret(context, appRoleSecretName(ref.name)) as {
    metadata?: { annotations?: Record<string, string> };
  } | undefined;
  return secret?.metadata?.annotations?.[APPROLE_ANNOTATIONS.checksum];
}

async function vaultCaText(context: KMSDeploymentStepContext,
  spec: DefaultedKMSDeploymentSpec): Promise<string | { missing: string } | undefined>
{
  const ref = spec.vault?.tls?.caSecretRef;
  if (!ref) return undefined;
  // The user's Secret is outside the operator's label-narrowed caches: read it directly.
  const secret = await context.kube.get(resources.Secret, context.object.metadata.namespace, ref.name);
  const ca = secretValue(secret, ref.key);
  return ca ?? { missing: `Secret ${ref.name} (spec.vault.tls.caSecretRef) has no key ${ref.key}` };
}

export function kesStep(): KMSDeploymentStep {
  return dataPathStep('kes', ConditionType.KESAvailable, async (context) => {
    const { spec } = context;
    if (spec.mode !== 'Vault' || !spec.kes) {
      return { status: 'True', reason: ConditionReason.NotUsed, message: `mode ${spec.mode} runs without KES` };
    }
    const ref = deploymentRef(context);
    const pki = pkiSecretNames(ref.name);
    const minio = identityOf(context, pki.leaves.minioClient);
    const operator = identityOf(context, pki.leaves.operatorClient);
    const tlsName = certificateSecretName(spec, ref.name, 'kesServer');
    const tls = certificateSecret(context, tlsName);
    const waiting = [minio, operator].flatMap((id) => (typeof id === 'string' ? [] : [id.missing]));
    if (!secretValue(tls, 'tls.crt') || !secretValue(tls, 'tls.key')) {
      waiting.push(`Secret ${tlsName} has no server certificate yet`);
    }
    if (waiting.length > 0) return waitingForCertificates(waiting.join('; '), POLL_MS);
    const approle = appRoleChecksum(context, ref);
    if (!approle) {
      return { status: 'False', reason: ConditionReason.WaitingForVaultCredentials,
        message: `Secret ${appRoleSecretName(ref.name)} does not exist yet`, requeueAfterMs: POLL_MS };
    }
    const vaultCa = await vaultCaText(context, spec);
    if (typeof vaultCa === 'object') {
      return { status: 'False', reason: ConditionReason.VaultCAMissing, message: vaultCa.missing,
        requeueAfterMs: POLL_MS };
    }

    let config: string;
    try {
      config = renderKesConfig({ deployment: ref, spec,
        identities: { minio: minio as string, operator: operator as string }, vaultRole: context.handoff.vaultRole,
        keysStillInUse: keysStillInUse(context) });
    } catch (err) {
      return { status: 'False', reason: ConditionReason.InvalidConfiguration, message: (err as Error).message };
    }
    const configChecksum = checksumOf([config, secretDataText(tls), vaultCa ?? '']);
    context.children.add(buildKesConfigSecret(ref, config) as unknown as KubeObject);
    const certificates = mountedCertificatesChecksum(spec, ref.name, 'kes', (name) => certificateSecret(context, name));
    context.children.add(
      withCertificatesChecksum(buildKesDeployment({ deployment: ref, spec, configChecksum, appRoleChecksum: approle }),
        certificates) as unknown as KubeObject,
    );
    context.children.add(buildKesService(ref, spec) as unknown as KubeObject);
    if (spec.vault?.kesAuth === 'Kubernetes') {
      context.children.add(buildKesServiceAccount(ref) as unknown as KubeObject);
    }

    const live = context.cache.get('Deployment', ref.namespace, kesNames(ref.name).workload);
    const rollout = rolloutOf('Deployment', live, spec.kes.replicas, configChecksum);
    context.handoff.kesWorkload = {
      endpoint: kesEndpoint(ref, spec.tls.clusterDomain),
      image: spec.kes.image,
      readyReplicas: rollout.readyReplicas,
      minioIdentity: minio as string,
      operatorIdentity: operator as string,
    };
    return availabilityOf('KES', rollout, 'spec.kes.image', spec.kes.image);
  });
}
