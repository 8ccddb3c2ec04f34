// What the operator remembers about the master keys of one KMSDeployment, so that a key that
// disappears from Vault (wiped prefix, restored backup, hand deletion) is reported instead of being
// silently re-created with new material — which would leave every object encrypted before unreadable.
//
// Per key: when the operator created (or first adopted) it, and a canary — a data key generated once
// under that master key, of which only the ciphertext is kept. Decrypting the canary later proves the
// key in Vault is still the same key; KES answers "key does not exist" when it is gone and "decryption
// failed" when it was replaced. Records live in the `<name>-kes-key-canaries` Secret (durable, owned by
// the KMSDeployment) and are mirrored in status.kes.keys. All of it is untrusted when read back: a
// tenant may edit the Secret, so every name and date is checked.
import { opaqueSecret } from '../runtime/kube/secret-data.ts';
import type { V1Secret } from '@kubernetes/client-node';
import { kesKeyNameProblem } from '../api/key-name.ts';
import { stackLabels } from '../workload/labels.ts';
import type { DeploymentRef } from '../workload/names.ts';

export interface KeyRecord {
  name: string;
  /** RFC 3339 time the operator created or adopted the key; also names the key's generation. */
  createdAt: string;
}

export interface KeyLedger {
  records: Map<string, KeyRecord>;
  /** Canary ciphertexts by key name. */
  canaries: Map<string, Buffer>;
}

/** Annotation on the KMSDeployment by which a person accepts a new key in place of a lost one. */
export const ACCEPT_NEW_KEY_ANNOTATION = 'kmsstack.io/accept-new-key';
/** Annotation on the canary Secret holding the records (JSON list of {name, createdAt}). */
export const KEY_RECORDS_ANNOTATION = 'kmsstack.io/key-records';

export function keyCanarySecretName(deployment: string): string {
  return `${deployment}-kes-key-canaries`;
}

/** Associated data of a canary: binds it to this deployment and key, so no other ciphertext passes. */
export function canaryContext(ref: DeploymentRef, key: string): Buffer {
  return Buffer.from(JSON.stringify({ 'kmsstack.io/canary': `${ref.namespace}/${ref.name}/${key}` }));
}

const maxCiphertextBytes = 4096;

function validDate(text: unknown): text is string {
  return typeof text === 'string' && text.length <= 64 && !Number.isNaN(Date.parse(text));
}

function parseRecords(text: string | undefined): KeyRecord[] {
  if (!text) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((entry: unknown) => {
    const { name, createdAt } = (entry ?? {}) as { name?: unknown; createdAt?: unknown };
    return typeof name === 'string' && !kesKeyNameProblem(name) && validDate(createdAt) ? [{ name, createdAt }] : [];
  });
}

/**
 * The ledger from the canary Secret and the records of status.kes.keys (the Secret wins where both
 * have a key; status alone still marks a key as known, so a lost Secret never leads to a re-create).
 */
export function readLedger(secret: unknown, statusRecords: unknown): KeyLedger {
  const view = secret as
    | { metadata?: { annotations?: Record<string, string> }; data?: Record<string, string> }
    | undefined;
  const records = new Map<string, KeyRecord>();
  const fromStatus = Array.isArray(statusRecords) ? parseRecords(JSON.stringify(statusRecords)) : [];
  for (const record of [...fromStatus, ...parseRecords(view?.metadata?.annotations?.[KEY_RECORDS_ANNOTATION])]) {
    records.set(record.name, record);
  }
  const canaries = new Map<string, Buffer>();
  for (const [name, value] of Object.entries(view?.data ?? {})) {
    if (kesKeyNameProblem(name) || !records.has(name)) continue;
    const bytes = Buffer.from(value, 'base64');
    if (bytes.length > 0 && bytes.length <= maxCiphertextBytes) canaries.set(name, bytes);
  }
  return { records, canaries };
}

/** The canary Secret holding `ledger`. Pure. */
export function buildKeyCanarySecret(ref: DeploymentRef, ledger: KeyLedger): V1Secret {
  const names = [...ledger.records.keys()].sort();
  const records = names.map((name) => ledger.records.get(name) as KeyRecord);
  const data = Object.fromEntries(names.flatMap((name) => {
    const canary = ledger.canaries.get(name);
    return canary ? [[name, canary.toString('base64')]] : [];
  }));
  const annotations = { [KEY_RECORDS_ANNOTATION]: JSON.stringify(records) };
  return opaqueSecret({ name: keyCanarySecretName(ref.name), namespace: ref.namespace,
    labels: stackLabels(ref.name, 'kes'), annotations }, data);
}

/** status.kes.keys: the records, sorted by name in code-point order (localeCompare would load ICU's collation data). */
export function statusRecords(ledger: KeyLedger): KeyRecord[] {
  return [...ledger.records.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The value a person sets on ACCEPT_NEW_KEY_ANNOTATION to accept a new key in place of `record`. */
export function acceptanceToken(record: KeyRecord): string {
  return `${record.name}@${record.createdAt}`;
}

/**
 * The tokens of ACCEPT_NEW_KEY_ANNOTATION (comma-separated `<key>@<createdAt>`). Bound to the lost
 * key's creation time, an acceptance applies once: the new key gets a new time, so a forgotten
 * annotation never accepts a later loss.
 */
export function acceptedTokens(annotations: Record<string, string> | undefined): Set<string> {
  const value = annotations?.[ACCEPT_NEW_KEY_ANNOTATION] ?? '';
  return new Set(value.split(',').map((token) => token.trim()).filter((token) => token !== ''));
}
