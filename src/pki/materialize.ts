// Carries out a plan: creates the CA and the leaf certificates it decided to issue, keeps the others
// byte for byte (so an unchanged reconcile writes nothing), and assembles the trust bundle.
import { type CertificateAuthority, createCA, issueClientCertificate, issueServerCertificate } from './issue.ts';
import { parseCertificateBundle, type ParsedCertificate } from './inspect.ts';
import { keyPairFromPrivateKeyPem } from './keys.ts';
import { caSubject, type LeafKind, leafPurpose, leafSubject } from './names.ts';
import type { PkiObservation } from './observe.ts';
import { desiredKinds, type PkiDesired, type PkiPlan, serverNamesOf } from './plan.ts';
import { caRotationLeadMs } from './policy.ts';

export interface CertificateMaterial {
  certPem: string;
  /** Secret material: never log it. */
  keyPem: string;
  notAfter: Date;
  kesIdentity: string;
  /** True when this reconcile issued it (the Secret changes). */
  issued: boolean;
}

export interface PkiMaterial {
  /** The CA's certificate and, for the operator's own CA, its key (the user's CA Secret is never written). */
  ca: { certPem: string; keyPem?: string; fingerprint: string; notAfter: Date; issued: boolean };
  /** PEM: the current CA first, then the previous CAs still trusted. */
  trustBundlePem: string;
  /** The desired leaves (PkiDesired.kinds). */
  leaves: Partial<Record<LeafKind, CertificateMaterial>>;
  /** The earliest expiry among the leaves (status.certificates.notAfter). */
  notAfter: Date;
  /**
   * The next moment age alone makes the plan act (a renewal, a CA rotation, a previous CA expiring);
   * undefined when nothing is due (for requeueAfter).
   */
  renewAt?: Date;
}

export interface MaterializeInput {
  plan: PkiPlan;
  observation: PkiObservation;
  desired: PkiDesired;
  deployment: { name: string; namespace: string };
  now: Date;
}

async function currentAuthority(
  input: MaterializeInput,
): Promise<{ authority: CertificateAuthority; certPem: string; keyPem?: string; issued: boolean }> {
  const { plan, observation, desired, deployment, now } = input;
  if (plan.ca.action === 'keep') {
    if (!observation.ca.ok) throw new Error('the plan keeps a CA that did not validate');
    const { authority, certPem, keyPem } = observation.ca;
    return observation.userCA ? { authority, certPem, issued: false } : { authority, certPem, keyPem, issued: false };
  }
  const created = await createCA({
    subject: caSubject(deployment.name, deployment.namespace),
    validityMs: desired.caValidityMs,
    keyAlgorithm: desired.keyAlgorithm,
    now,
  });
  return { authority: created.authority, certPem: created.certPem, keyPem: created.keyPem, issued: true };
}

async function leafMaterial(kind: LeafKind, input: MaterializeInput,
  ca: CertificateAuthority): Promise<CertificateMaterial>
{
  const { plan, observation, desired, deployment, now } = input;
  const decision = plan.leaves[kind];
  const observed = observation.leaves[kind];
  if (!decision) throw new Error(`the plan has no decision for the ${kind} certificate`);
  if (decision.action === 'keep') {
    if (observed.state !== 'present') {
      throw new Error(`the plan keeps the ${kind} certificate, which is ${observed.state}`);
    }
    const { info } = observed.certificate;
    return { certPem: observed.certPem, keyPem: observed.keyPem, notAfter: info.notAfter, kesIdentity: info.kesIdentity,
      issued: false };
  }
  const reusable = decision.reuseKey && observed.state === 'present' &&
    observed.keyAlgorithm === desired.keyAlgorithm;
  const common = {
    ca,
    subject: leafSubject(kind, deployment.name, deployment.namespace),
    validityMs: desired.validityMs,
    keyAlgorithm: desired.keyAlgorithm,
    now,
    ...(reusable ? { keyPair: await keyPairFromPrivateKeyPem(observed.keyPem, desired.keyAlgorithm) } : {}),
  };
  const issued = leafPurpose[kind] === 'serverAuth'
    ? await issueServerCertificate({ ...common, ...serverNamesOf(desired, kind) })
    : await issueClientCertificate(common);
  const { info } = issued.certificate;
  return { certPem: issued.certPem, keyPem: issued.keyPem, notAfter: info.notAfter, kesIdentity: info.kesIdentity,
    issued: true };
}

/**
 * The deployment's CAs, then the extra ones. An extra CA also seen as a previous CA (it sat in the
 * bundle already) is placed once, at the end, so the bundle does not change with the rollout state.
 */
function trustBundle(own: ParsedCertificate[], extraPem: string | undefined): string {
  const extra = parseCertificateBundle(extraPem).filter((cert) => cert.info.isCA);
  const extraPrints = new Set(extra.map((cert) => cert.info.fingerprint));
  const ordered = [...own.filter((cert, i) => i === 0 || !extraPrints.has(cert.info.fingerprint)), ...extra];
  const seen = new Set<string>();
  return ordered.filter((cert) => !seen.has(cert.info.fingerprint) && seen.add(cert.info.fingerprint)).map((cert) =>
    cert.pem
  ).join('');
}

export async function materializePki(input: MaterializeInput): Promise<PkiMaterial> {
  const { plan, observation, desired } = input;
  const ca = await currentAuthority(input);
  const kinds = desiredKinds(desired);
  const leaves: Partial<Record<LeafKind, CertificateMaterial>> = {};
  for (const kind of kinds) leaves[kind] = await leafMaterial(kind, input, ca.authority);

  const previous = plan.previousCAs.map((fingerprint) => {
    const cert = observation.knownCAs.get(fingerprint);
    if (!cert) throw new Error(`the plan keeps an unknown CA ${fingerprint} in the trust bundle`);
    return cert;
  });
  const caInfo = ca.authority.certificate.info;
  const leafExpiries = kinds.flatMap((kind) => leaves[kind]?.notAfter.getTime() ?? []);
  const renewals = leafExpiries.map((notAfter) => notAfter - desired.renewBeforeMs);
  if (!observation.userCA) renewals.push(caInfo.notAfter.getTime() - caRotationLeadMs(desired));
  for (const cert of previous) renewals.push(cert.info.notAfter.getTime());
  // Times already past are renewals the CA's own expiry blocks (see the plan's warnings), not work.
  const due = renewals.filter((at) => at > input.now.getTime());
  return {
    ca: {
      certPem: ca.certPem,
      ...(ca.keyPem !== undefined ? { keyPem: ca.keyPem } : {}),
      fingerprint: caInfo.fingerprint,
      notAfter: caInfo.notAfter,
      issued: ca.issued,
    },
    trustBundlePem: trustBundle([ca.authority.certificate, ...previous], desired.extraTrustedPem),
    leaves,
    notAfter: new Date(Math.min(...leafExpiries)),
    ...(due.length > 0 ? { renewAt: new Date(Math.min(...due)) } : {}),
  };
}
