// The pure decision of a reconcile: which certificates to keep, which to (re)issue and why, and which
// CAs the trust bundle must hold. No clock, no randomness, no I/O: everything comes in as arguments.
import { kesLeafKinds, type LeafKind, leafPurpose } from './names.ts';
import type { LeafObservation, PkiObservation } from './observe.ts';
import { caRotationLeadMs, type PkiPolicy } from './policy.ts';

/** Why a certificate is (re)issued; these words appear in status messages and events. */
export type IssueReason = 'Missing' | 'Corrupt' | 'KeyTypeChanged' | 'IssuerChanged' | 'SANsChanged' | 'Expiring';

/** A re-issue that waits until every pod trusts the CA the new certificate would be signed by. */
export interface Pending {
  reason: IssueReason;
  message: string;
  waitingFor: string;
}

export type Decision =
  | { action: 'keep'; pending?: Pending }
  | { action: 'issue'; reason: IssueReason; message: string; /** renew with the current key (keeps a KES identity) */
    reuseKey: boolean };

export interface PkiDesired extends PkiPolicy {
  /** SANs of the KES server certificate (see kesServerDnsNames). */
  serverDnsNames: string[];
  serverIpAddresses?: string[];
  /** SANs of MinIO's S3 server certificate (see minioServerDnsNames); needed when kinds has minioServer. */
  minioServerDnsNames?: string[];
  /** The leaves this deployment has; default the KES chain (kesLeafKinds). Others are neither planned nor issued. */
  kinds?: readonly LeafKind[];
  /**
   * CA certificates (PEM) the trust bundle carries after the deployment's own, e.g. the issuer of a
   * KES certificate the user brings, so that MinIO and the operator verify it.
   */
  extraTrustedPem?: string;
}

/** The leaves `desired` asks for. */
export function desiredKinds(desired: Pick<PkiDesired, 'kinds'>): readonly LeafKind[] {
  return desired.kinds ?? kesLeafKinds;
}

/** The DNS names and IP addresses a server leaf must carry. */
export function serverNamesOf(desired: PkiDesired, kind: LeafKind): { dnsNames: string[]; ipAddresses: string[] } {
  if (kind === 'minioServer') return { dnsNames: desired.minioServerDnsNames ?? [], ipAddresses: [] };
  return { dnsNames: desired.serverDnsNames, ipAddresses: desired.serverIpAddresses ?? [] };
}

export interface PlanInput {
  desired: PkiDesired;
  observation: PkiObservation;
  now: Date;
  /**
   * True when every KES and MinIO pod runs with the current content of the certificate Secrets (the
   * pod-template checksum of every ready pod is the current one), or when there are no such pods yet.
   * CA rotation advances one step per settled rollout, so no two pods ever distrust each other.
   */
  workloadsSettled: boolean;
}

export interface PkiPlan {
  /** The operator's CA; always "keep" when the CA is the user's. */
  ca: Decision;
  /** One decision per desired leaf (desiredKinds). */
  leaves: Partial<Record<LeafKind, Decision>>;
  /** Fingerprints of the CAs besides the current one that the trust bundle keeps, newest first. */
  previousCAs: string[];
  /** The warnings: what a user should act on that does not stop the operator (e.g. a user CA close to expiry). */
  warnings: string[];
}

export type PlanResult = { ok: true; plan: PkiPlan } | { ok: false; reason: 'InvalidCASecret'; message: string };

const keep: Decision = { action: 'keep' };
const iso = (ms: number): string => new Date(ms).toISOString();
const hours = (ms: number): string => `${Math.round(ms / 3_600_000)}h`;

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  const norm = (names: readonly string[]): string => [...new Set(names.map((n) => n.toLowerCase()))].sort().join(',');
  return norm(a) === norm(b);
}

function planCA(input: PlanInput): Decision {
  const { observation: { ca }, desired, now } = input;
  if (ca.ok) {
    const { notAfter, keyAlgorithm } = ca.authority.certificate.info;
    if (keyAlgorithm !== desired.keyAlgorithm) {
      return { action: 'issue', reason: 'KeyTypeChanged',
        message: `the CA key is ${keyAlgorithm}, spec wants ${desired.keyAlgorithm}`, reuseKey: false };
    }
    const lead = caRotationLeadMs(desired);
    if (now.getTime() >= notAfter.getTime() - lead) {
      return { action: 'issue', reason: 'Expiring',
        message: `the CA expires at ${notAfter.toISOString()}, within ${hours(lead)}`, reuseKey: false };
    }
    return keep;
  }
  if (ca.problem === 'Missing') return { action: 'issue', reason: 'Missing', message: ca.message, reuseKey: false };
  if (ca.problem === 'Expired') return { action: 'issue', reason: 'Expiring', message: ca.message, reuseKey: false };
  return { action: 'issue', reason: 'Corrupt', message: ca.message, reuseKey: false };
}

interface LeafContext {
  input: PlanInput;
  /** Fingerprint of the CA leaves must be signed by; undefined while that CA is about to be created. */
  currentCA: string | undefined;
  currentCANotAfter: number;
  /** Every pod trusts the current CA, so a certificate it signs may replace one that still works. */
  currentCATrusted: boolean;
  warnings: string[];
}

const waitingForTrust = 'every KES and MinIO pod to trust the new CA';

function sameNamesAsWanted(kind: LeafKind, info: { dnsNames: string[]; ipAddresses: string[] }, desired: PkiDesired): [
  IssueReason,
  string,
] | undefined {
  const { dnsNames, ipAddresses } = serverNamesOf(desired, kind);
  const wanted = [...dnsNames, ...ipAddresses];
  const present = [...info.dnsNames, ...info.ipAddresses];
  return sameNames(wanted, present)
    ? undefined
    : ['SANsChanged', `the names [${present.join(', ')}] differ from [${wanted.join(', ')}]`];
}

/** Why a still-working certificate should be replaced, if it should. */
function replacementReason(kind: LeafKind, observed: Extract<LeafObservation, { state: 'present' }>, ctx: LeafContext):
  | [IssueReason, string]
  | undefined
{
  const { desired, now } = ctx.input;
  const { info } = observed.certificate;
  if (info.keyAlgorithm !== desired.keyAlgorithm) {
    return ['KeyTypeChanged', `the key is ${info.keyAlgorithm}, spec wants ${desired.keyAlgorithm}`];
  }
  if (ctx.currentCA === undefined || observed.issuerFingerprint !== ctx.currentCA) {
    return ['IssuerChanged', 'the certificate is not signed by the current CA'];
  }
  if (leafPurpose[kind] === 'serverAuth') {
    const changed = sameNamesAsWanted(kind, info, desired);
    if (changed) return changed;
  }
  const notAfter = info.notAfter.getTime();
  if (now.getTime() >= notAfter - desired.renewBeforeMs) {
    const when = `expires at ${iso(notAfter)}, within ${hours(desired.renewBeforeMs)}`;
    // A renewal cut short by the CA's own expiry would not help; re-issuing it each time would loop.
    if (Math.min(now.getTime() + desired.validityMs, ctx.currentCANotAfter) > notAfter) {
      return ['Expiring', `the certificate ${when}`];
    }
    ctx.warnings.push(
      `the ${leafPurpose[kind]} certificate ${when} and cannot be renewed past its CA's expiry at ${
        iso(ctx.currentCANotAfter)
      }`,
    );
  }
  return undefined;
}

function planLeaf(kind: LeafKind, observed: LeafObservation, ctx: LeafContext): Decision {
  const { now } = ctx.input;
  // Missing, corrupt or expired certificates are replaced at once: nothing works with them anyway.
  if (observed.state === 'missing') {
    return { action: 'issue', reason: 'Missing', message: 'the Secret does not exist', reuseKey: false };
  }
  if (observed.state === 'corrupt') {
    return { action: 'issue', reason: 'Corrupt', message: observed.problem, reuseKey: false };
  }
  const { info } = observed.certificate;
  const purpose = leafPurpose[kind];
  if (info.isCA || !info.extendedKeyUsages.includes(purpose)) {
    return { action: 'issue', reason: 'Corrupt', message: `the certificate is not a ${purpose} leaf certificate`,
      reuseKey: false };
  }
  // Client keys are kept across renewals: their KES identity (a hash of the public key) stays the same.
  const reuseKey = purpose === 'clientAuth' && info.keyAlgorithm === ctx.input.desired.keyAlgorithm;
  if (info.notBefore.getTime() > now.getTime()) {
    return { action: 'issue', reason: 'Corrupt',
      message: `the certificate is not valid before ${iso(info.notBefore.getTime())}`, reuseKey };
  }
  if (info.notAfter.getTime() <= now.getTime()) {
    return { action: 'issue', reason: 'Expiring', message: `the certificate expired at ${iso(info.notAfter.getTime())}`,
      reuseKey };
  }
  const replacement = replacementReason(kind, observed, ctx);
  if (!replacement) return keep;
  const [reason, message] = replacement;
  if (!ctx.currentCATrusted) return { action: 'keep', pending: { reason, message, waitingFor: waitingForTrust } };
  return { action: 'issue', reason, message, reuseKey };
}

/** Decides what to do with the CA, each leaf certificate and the trust bundle. */
export function planCertificates(input: PlanInput): PlanResult {
  const { observation, desired, now, workloadsSettled } = input;
  const { ca } = observation;
  if (observation.userCA && !ca.ok) return { ok: false, reason: 'InvalidCASecret', message: ca.message };

  const caDecision = observation.userCA ? keep : planCA(input);
  const caKept = caDecision.action === 'keep' && ca.ok;
  const currentCA = caKept ? ca.authority.certificate.info.fingerprint : undefined;
  const currentCANotAfter = caKept
    ? ca.authority.certificate.info.notAfter.getTime()
    : now.getTime() + desired.caValidityMs;
  const kinds = desiredKinds(desired);
  const observedLeaves = kinds.map((kind) => observation.leaves[kind]);
  const trustedByEveryLeafSecret = observedLeaves.every((leaf) =>
    leaf.state === 'missing' || (currentCA !== undefined && leaf.trusts.includes(currentCA))
  );
  const signedEverything = observedLeaves.every((leaf) =>
    leaf.state !== 'present' || leaf.issuerFingerprint === currentCA
  );
  // Pods trust what the Secrets they mount said when they started. Once a settled rollout has carried
  // the current CA everywhere, or no leaf was signed by any other CA (so no rotation is under way),
  // every pod trusts the current CA.
  const currentCATrusted = currentCA !== undefined && trustedByEveryLeafSecret &&
    (workloadsSettled || signedEverything);
  const warnings: string[] = [];
  if (observation.userCA && ca.ok && currentCANotAfter < now.getTime() + desired.validityMs) {
    warnings.push(
      `the CA expires at ${
        iso(currentCANotAfter)
      }, sooner than spec.tls.validity allows; the certificates it signs end then too: replace the CA before`,
    );
  }
  const ctx: LeafContext = { input, currentCA, currentCANotAfter, currentCATrusted, warnings };
  const leaves: Partial<Record<LeafKind, Decision>> = Object.fromEntries(
    kinds.map((kind) => [kind, planLeaf(kind, observation.leaves[kind], ctx)]),
  );

  // A replaced CA stays trusted while a leaf it signed may still be served by some pod.
  const candidates = new Set(observation.distributedCAs);
  if (ca.ok) candidates.add(ca.authority.certificate.info.fingerprint);
  else if (ca.certificate) candidates.add(ca.certificate.info.fingerprint);
  if (currentCA) candidates.delete(currentCA);
  const previousCAs = [...candidates]
    .flatMap((fingerprint) => {
      const cert = observation.knownCAs.get(fingerprint);
      return cert ? [cert] : [];
    })
    .filter((cert) => cert.info.notAfter.getTime() > now.getTime())
    .filter((cert) => {
      const { fingerprint } = cert.info;
      const signsALeaf = observedLeaves.some((leaf) =>
        leaf.state !== 'missing' && leaf.issuerFingerprint === fingerprint
      );
      return signsALeaf || (!workloadsSettled && observation.distributedCAs.has(fingerprint));
    })
    // Newest first; code-point order of fingerprints (not localeCompare, which loads ICU's collation data).
    .sort((a, b) =>
      b.info.notBefore.getTime() - a.info.notBefore.getTime() ||
      (a.info.fingerprint < b.info.fingerprint ? -1 : a.info.fingerprint > b.info.fingerprint ? 1 : 0)
    )
    .map((cert) => cert.info.fingerprint);

  return { ok: true, plan: { ca: caDecision, leaves, previousCAs, warnings } };
}
