// How the certificates stand (the controller makes it the CertificatesReady condition) and
// status.certificates, from a plan and what it produced.
import type { PkiMaterial } from './materialize.ts';
import { type LeafKind, leafKinds } from './names.ts';
import type { Decision, PlanResult } from './plan.ts';
import { ConditionReason } from '../api/reasons.ts';

/** The reasons of CertificatesReady this library reports (constants of api/reasons.ts). */
export type CertificatesReason = (typeof ConditionReason)['Issued' | 'Renewing' | 'InvalidCASecret'];

export interface CertificatesStatus {
  condition: { status: 'True' | 'False'; reason: CertificatesReason; message: string };
  /** status.certificates; absent when nothing could be issued. */
  certificates?: { notAfter: string; caNotAfter: string };
  /** status.kes.minioIdentity and status.kes.operatorIdentity; absent without KES. */
  identities?: { minio: string; operator: string };
}

const label: Record<LeafKind | 'ca', string> = {
  ca: 'CA',
  kesServer: 'KES server certificate',
  minioClient: 'MinIO client certificate',
  operatorClient: 'operator client certificate',
  minioServer: 'MinIO server certificate',
};

function describe(what: LeafKind | 'ca', decision: Decision): string | undefined {
  if (decision.action === 'issue') return `${label[what]} issued (${decision.reason}: ${decision.message})`;
  if (decision.pending) {
    return `${
      label[what]
    } to be replaced (${decision.pending.reason}: ${decision.pending.message}) once ${decision.pending.waitingFor}`;
  }
  return undefined;
}

/** Status after the plan's material was written; pass the plan result alone when it was refused. */
export function certificatesStatus(result: PlanResult, material?: PkiMaterial): CertificatesStatus {
  if (!result.ok) {
    return { condition: { status: 'False', reason: 'InvalidCASecret', message: result.message } };
  }
  if (!material) throw new Error('certificatesStatus needs the material of an accepted plan');
  const { plan } = result;
  const leaves = leafKinds.flatMap((kind): [LeafKind, Decision][] => {
    const decision = plan.leaves[kind];
    return decision ? [[kind, decision]] : [];
  });
  const decisions: [LeafKind | 'ca', Decision][] = [['ca', plan.ca], ...leaves];
  const changes = decisions.flatMap(([what, decision]) => describe(what, decision) ?? []);
  // Creating what does not exist yet is issuing; replacing what exists (or rotating the CA) is renewing.
  const renewing = plan.previousCAs.length > 0 ||
    decisions.some(([, d]) => (d.action === 'issue' ? d.reason !== 'Missing' : d.pending !== undefined));
  const notAfter = material.notAfter.toISOString();
  const [minio, operator] = [material.leaves.minioClient, material.leaves.operatorClient];
  const parts = changes.length > 0 ? [...changes] : [`certificates valid until ${notAfter}`];
  if (plan.previousCAs.length > 0) {
    parts.push(`the trust bundle still holds ${plan.previousCAs.length} previous CA(s) during rotation`);
  }
  parts.push(...plan.warnings.map((w) => `warning: ${w}`));
  return {
    condition: { status: 'True', reason: renewing ? 'Renewing' : 'Issued', message: parts.join('; ') },
    certificates: { notAfter, caNotAfter: material.ca.notAfter.toISOString() },
    ...(minio && operator ? { identities: { minio: minio.kesIdentity, operator: operator.kesIdentity } } : {}),
  };
}
