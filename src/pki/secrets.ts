// The Secrets the PKI lives in, rendered from issued material, and the checksum that rolls pods when
// their certificates or trust bundle change.
import { createHash } from 'node:crypto';
import { kesLeafKinds, type LeafKind, leafKinds, type PkiSecretNames } from './names.ts';
import type { PkiMaterial } from './materialize.ts';
import type { SecretContents } from './validate-ca.ts';

export interface RenderedSecret {
  name: string;
  type: 'kubernetes.io/tls';
  /** Plain-text values; see toSecretData for the base64 `data` form. */
  stringData: Record<string, string>;
}

export interface RenderedPkiSecrets {
  /** Absent when the CA is the user's: the operator never writes that Secret. */
  ca?: RenderedSecret;
  /** The leaves the material holds. */
  leaves: Partial<Record<LeafKind, RenderedSecret>>;
}

/**
 * CA Secret: tls.crt / tls.key (the CA) and ca.crt (the trust bundle). Leaf Secrets, type
 * kubernetes.io/tls: tls.crt / tls.key (the leaf) and ca.crt (the trust bundle).
 */
export function renderPkiSecrets(material: PkiMaterial, names: PkiSecretNames): RenderedPkiSecrets {
  const bundle = material.trustBundlePem;
  const leaves: Partial<Record<LeafKind, RenderedSecret>> = {};
  for (const kind of leafKinds) {
    const leaf = material.leaves[kind];
    if (!leaf) continue;
    leaves[kind] = { name: names.leaves[kind], type: 'kubernetes.io/tls',
      stringData: { 'ca.crt': bundle, 'tls.crt': leaf.certPem, 'tls.key': leaf.keyPem } };
  }
  if (material.ca.keyPem === undefined) return { leaves };
  return {
    ca: { name: names.ca, type: 'kubernetes.io/tls',
      stringData: { 'ca.crt': bundle, 'tls.crt': material.ca.certPem, 'tls.key': material.ca.keyPem } },
    leaves,
  };
}

/** SHA-256 over (kind, certificate, bundle) triples, each field length-prefixed (pki stays free of src/workload). */
function leavesChecksum(pairs: readonly (readonly [LeafKind, string, string])[]): string {
  const hash = createHash('sha256');
  const field = (text: string): void => {
    hash.update(`${Buffer.byteLength(text)}:`).update(text);
  };
  // Code-point order, as everywhere here: localeCompare would load ICU's collation data (+3 MiB RSS).
  for (const [kind, certPem, bundlePem] of [...pairs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    field(kind);
    field(certPem);
    field(bundlePem);
  }
  return hash.digest('hex');
}

const uniqueKinds = (kinds: readonly LeafKind[]): LeafKind[] => [...new Set(kinds)];

/**
 * Hex SHA-256 over the certificates of `kinds` and their trust bundle, for a pod-template annotation:
 * it changes exactly when what a pod mounts changes. Private keys are not hashed (a new key always
 * comes with a new certificate), so the annotation reveals nothing about them.
 */
export function certificateChecksum(material: PkiMaterial, kinds: readonly LeafKind[] = kesLeafKinds): string {
  return leavesChecksum(
    uniqueKinds(kinds).map((kind) => [kind, material.leaves[kind]?.certPem ?? '', material.trustBundlePem] as const),
  );
}

/**
 * The same checksum over the Secrets as they are now (tls.crt and ca.crt of each), equal to
 * certificateChecksum of the material that wrote them. A workload whose pod template carries this
 * value, with its rollout complete, runs the current Secrets (see PlanInput.workloadsSettled).
 */
export function secretsChecksum(leaves: Partial<Record<LeafKind, SecretContents | undefined>>,
  kinds: readonly LeafKind[] = kesLeafKinds): string
{
  return leavesChecksum(
    uniqueKinds(kinds).map((kind) => [kind, leaves[kind]?.['tls.crt'] ?? '', leaves[kind]?.['ca.crt'] ?? ''] as const),
  );
}
