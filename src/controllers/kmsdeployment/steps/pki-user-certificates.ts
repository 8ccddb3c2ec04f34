// Part of stage 3 (CertificatesReady): the server certificates a user brings
// (spec.kes.tls.certificateSecretRef, spec.minio.tls.certificateSecretRef). They are read from the API
// server at every reconcile (they are not the operator's, so not in its caches), validated, and handed
// to the KES and MinIO steps, which mount them and hash them into the pod-template checksum: a renewed
// certificate (cert-manager's) rolls the pods at the next reconcile, which a change of the Secret
// triggers at once (the controller watches kubernetes.io/tls Secrets, metadata only: controller.ts);
// USER_CERTIFICATE_POLL_MS is the safety net should an event be missed.
import { decodeSecretData } from '../../../runtime/kube/secret-data.ts';
import { type KubeObject, resources } from '../../../runtime/kube/resources.ts';
import { parseCertificateBundle, type PkiSecretNames, type UserCertificate,
  validateUserCertificate } from '../../../pki/index.ts';
import type { ParsedCertificate } from '../../../pki/inspect.ts';
import { minioCertificateHosts } from '../../../minio/services.ts';
import { kesEndpoint } from '../../../workload/names.ts';
import { secretData, userCertificateFields, type UserCertificateKind,
  userCertificateSecret } from '../../../workload/certificates.ts';
import { deploymentRef, type KMSDeploymentStepContext } from '../context.ts';

/** How often a user's certificate Secret is read again for a renewal, events or not. */
export const USER_CERTIFICATE_POLL_MS = 60_000;

export interface UserCertificateRead {
  kind: UserCertificateKind;
  secretName: string;
  secret: KubeObject | undefined;
}

/** The user's certificate Secrets the spec names, read from the API server. */
export async function readUserCertificates(context: KMSDeploymentStepContext): Promise<UserCertificateRead[]> {
  const kinds = (Object.keys(userCertificateFields) as UserCertificateKind[]).filter((kind) =>
    userCertificateSecret(context.spec, kind) !== undefined
  );
  return Promise.all(
    kinds.map(async (kind) => {
      const secretName = userCertificateSecret(context.spec, kind) as string;
      return { kind, secretName,
        secret: await context.kube.get(resources.Secret, context.object.metadata.namespace, secretName) };
    }),
  );
}

/** A certificateSecretRef the operator cannot honour: it names a Secret the operator writes itself. */
export function userCertificateRefProblem(reads: readonly UserCertificateRead[], names: PkiSecretNames):
  | string
  | undefined
{
  const own = [names.ca, ...Object.values(names.leaves)];
  const bad = reads.find((read) => own.includes(read.secretName));
  return bad
    ? `Secret ${JSON.stringify(bad.secretName)} (${
      userCertificateFields[bad.kind]
    }): names a Secret the operator manages itself; name a Secret of your own`
    : undefined;
}

export type ValidatedUserCertificate = UserCertificateRead & Extract<UserCertificate, { ok: true }>;

/** Validates each read Secret; the first problem, or every certificate. `deploymentCA` signs what has no ca.crt. */
export async function validateUserCertificates(
  context: KMSDeploymentStepContext,
  reads: readonly UserCertificateRead[],
  deploymentCA: ParsedCertificate | undefined,
): Promise<{ problem: string } | { certificates: ValidatedUserCertificate[] }> {
  const ref = deploymentRef(context);
  const certificates: ValidatedUserCertificate[] = [];
  for (const read of reads) {
    const requiredHosts = read.kind === 'kesServer'
      ? [new URL(kesEndpoint(ref, context.spec.tls.clusterDomain)).hostname]
      : minioCertificateHosts(ref, context.spec);
    const result = await validateUserCertificate({
      secretName: read.secretName,
      field: userCertificateFields[read.kind],
      type: read.secret ? ((read.secret as { type?: string }).type ?? 'Opaque') : undefined,
      data: read.secret ? decodeSecretData(secretData(read.secret)) : undefined,
      requiredHosts,
      now: context.now,
      // MinIO and the operator verify KES with the deployment's bundle only; S3 clients bring their own roots.
      ...(read.kind === 'kesServer' ? { issuersWithoutBundle: deploymentCA ? [deploymentCA] : [] } : {}),
    });
    if (!result.ok) return { problem: result.message };
    certificates.push({ ...read, ...result });
  }
  // Handed to the KES and MinIO steps (certificateSecret in context.ts).
  context.handoff.userCertificates = Object.fromEntries(
    certificates.flatMap((c) => (c.secret ? [[c.secretName, c.secret]] : [])),
  );
  return { certificates };
}

/** ca.crt of the user's KES certificate: MinIO and the operator must trust it (PkiDesired.extraTrustedPem). */
export function extraTrustedPem(certificates: readonly ValidatedUserCertificate[]): string | undefined {
  return certificates.find((c) => c.kind === 'kesServer')?.caPem;
}

/** Fingerprints of the CAs in `pem`. */
export function fingerprintsOf(pem: string | undefined): Set<string> {
  return new Set(parseCertificateBundle(pem).map((cert) => cert.info.fingerprint));
}
