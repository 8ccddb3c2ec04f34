// Stage 6 of the data path (KeysReady): the master keys of spec.kes.keys exist in KES (guide step
// 4.3) and are still the keys the operator made. A key the operator has no record of is created with
// the operator's identity ("already exists" counts: the key is adopted); no listing is needed for
// that, which matters because KES answers 502 when it lists an empty Vault prefix. A recorded key is
// checked by decrypting its canary with MinIO's identity; a key that is gone (KeyMissing) or holds
// other material (KeyReplaced) is never created again by the operator: a person decides (docs/kes.md).
// With keyDeletionPolicy Delete, keys that left the spec are deleted.
import { ConditionReason, EventReason } from '../../../api/reasons.ts';
import { ConditionType } from '../../../api/constants.ts';
import { kesKeyNameProblem } from '../../../api/key-name.ts';
import { KesError } from '../../../kes/errors.ts';
import { ACCEPT_NEW_KEY_ANNOTATION, acceptanceToken, acceptedTokens, buildKeyCanarySecret, canaryContext,
  keyCanarySecretName, type KeyLedger, type KeyRecord, readLedger, statusRecords } from '../../../kes/key-records.ts';
import type { DeploymentRef } from '../../../workload/names.ts';
import { type KesAccessOptions, kesClient, kesConnector, kesFailure, type KesKeyOps } from '../kes-access.ts';
import { type ClientTls, clientTlsOf } from '../../../workload/secret-data.ts';
import { pkiSecretNames } from '../../../pki/names.ts';
import { ifControlledBy } from '../../../runtime/children.ts';
import { type KubeObject, resources } from '../../../runtime/kube/resources.ts';
import type { StepResult } from '../../../runtime/step.ts';
import type { KMSDeploymentStep, KMSDeploymentStepContext } from '../context.ts';
import { childSecret, dataPathStep, deploymentRef, waitingForCertificates } from '../context.ts';

const LOST_KEY_RECHECK_MS = 60_000;

/** How the keys step reaches KES. */
export type KesStepOptions = KesAccessOptions<KesKeyOps>;

type Problem = { key: string; kind: 'KeyMissing' | 'KeyReplaced'; record: KeyRecord };

interface KeyRun {
  context: KMSDeploymentStepContext;
  ref: DeploymentRef;
  ledger: KeyLedger;
  operator: KesKeyOps;
  minio: KesKeyOps;
}

/** The canary Secret from the cache, else from the API server: a lagging cache must not lose records. */
async function ledgerOf(context: KMSDeploymentStepContext, ref: DeploymentRef): Promise<KeyLedger> {
  const name = keyCanarySecretName(ref.name);
  // A canary Secret this KMSDeployment does not control is someone else's: its records are not ours.
  const secret = ifControlledBy(
    childSecret(context, name) ?? (await context.kube.get(resources.Secret, ref.namespace, name)),
    context.object,
  );
  const status = (context.object.status?.['kes'] as { keys?: unknown } | undefined)?.keys;
  return readLedger(secret, status);
}

// Minted with the operator's identity: MinIO's may generate only with the keys in use (its default
// and the buckets' keys), and a key listed for a later rotation needs its canary before that. MinIO's
// identity decrypts it (checkRecorded, the verify step), as it decrypts objects.
async function mintCanary(run: KeyRun, key: string): Promise<void> {
  const dataKey = await run.operator.generateKey(key, canaryContext(run.ref, key));
  dataKey.plaintext.fill(0);
  run.ledger.canaries.set(key, dataKey.ciphertext);
}

/** What a recorded key's canary says about it; mints the canary when there is none yet. */
async function checkRecorded(run: KeyRun, key: string): Promise<'ok' | 'KeyMissing' | 'KeyReplaced'> {
  const canary = run.ledger.canaries.get(key);
  try {
    if (!canary) {
      await mintCanary(run, key);
      return 'ok';
    }
    (await run.minio.decrypt(key, canary, canaryContext(run.ref, key))).fill(0);
    return 'ok';
  } catch (err) {
    if (err instanceof KesError && err.reason === 'KeyNotFound') return 'KeyMissing';
    if (err instanceof KesError && err.reason === 'DecryptionFailed') return 'KeyReplaced';
    throw err;
  }
}

/** Creates (or adopts) a key, records it and mints its canary. */
type KeyEvent = { type: 'Normal' | 'Warning'; reason: string; note: string };

async function createAndRecord(run: KeyRun, key: string,
  describe: (outcome: 'created' | 'exists') => KeyEvent): Promise<void>
{
  const outcome = await run.operator.createKey(key);
  run.ledger.records.set(key, { name: key, createdAt: run.context.now.toISOString() });
  run.ledger.canaries.delete(key);
  await mintCanary(run, key);
  await run.context.events.emit(run.context.object, { action: 'CreateKey', ...describe(outcome) });
}

async function ensureKey(run: KeyRun, key: string, accepted: Set<string>): Promise<Problem | undefined> {
  const record = run.ledger.records.get(key);
  if (!record) {
    await createAndRecord(run, key, (outcome) =>
      outcome === 'created'
        ? { type: 'Normal', reason: EventReason.KeyCreated, note: `created master key ${key} in KES` }
        : { type: 'Normal', reason: EventReason.KeyAdopted,
          note: `master key ${key} already existed in Vault and is now recorded as this deployment's key` });
    return undefined;
  }
  const state = await checkRecorded(run, key);
  if (state === 'ok') return undefined;
  if (!accepted.has(acceptanceToken(record))) return { key, kind: state, record };
  // A person accepted the loss: a missing key is created anew, a replaced one is taken as it is.
  await createAndRecord(run, key, () => ({
    type: 'Warning',
    reason: EventReason.NewKeyAccepted,
    note:
      `${ACCEPT_NEW_KEY_ANNOTATION} accepted a new master key ${key} in place of the one created ${record.createdAt}; objects encrypted with the old key cannot be decrypted`,
  }));
  return undefined;
}

/** Keys that left the spec, deleted under keyDeletionPolicy Delete: recorded ones and listed ones. */
async function deleteRetired(run: KeyRun, wanted: readonly string[]): Promise<void> {
  let listed: string[] = [];
  try {
    listed = await run.operator.listKeys();
  } catch (err) {
    // KES answers 502 when it lists an empty prefix: nothing listed, only recorded keys are candidates.
    if (!(err instanceof KesError && err.reason === 'KeystoreError')) throw err;
  }
  const candidates = [...new Set([...run.ledger.records.keys(), ...listed])].filter((name) => !wanted.includes(name));
  const unusable = candidates.filter((name) => kesKeyNameProblem(name) !== undefined);
  if (unusable.length > 0) {
    await run.context.events.emit(run.context.object, {
      type: 'Warning',
      reason: EventReason.KeyNameRejected,
      action: 'DeleteKey',
      note: `KES listed ${unusable.length} entr${
        unusable.length === 1 ? 'y' : 'ies'
      } whose name is not a KES key name; left untouched`,
    });
  }
  for (const name of candidates.filter((n) => kesKeyNameProblem(n) === undefined)) {
    await run.operator.deleteKey(name);
    run.ledger.records.delete(name);
    run.ledger.canaries.delete(name);
    await run.context.events.emit(run.context.object, {
      type: 'Warning',
      reason: EventReason.KeyDeleted,
      action: 'DeleteKey',
      note:
        `deleted master key ${name}: it left spec.kes.keys and keyDeletionPolicy is Delete; data encrypted with it can no longer be decrypted`,
    });
  }
}

function lostKeysResult(problems: readonly Problem[], ref: DeploymentRef): StepResult {
  const reason = problems.some((p) => p.kind === 'KeyMissing')
    ? ConditionReason.KeyMissing
    : ConditionReason.KeyReplaced;
  const what = problems.map((p) =>
    p.kind === 'KeyMissing'
      ? `master key ${p.key} (created ${p.record.createdAt}) is gone from Vault`
      : `master key ${p.key} (created ${p.record.createdAt}) in Vault is not the key the operator created`
  );
  const tokens = problems.map((p) => acceptanceToken(p.record)).join(',');
  const message =
    `${
      what.join('; ')
    }. Objects encrypted with it cannot be decrypted, and the operator will not create a replacement on its own: ` +
    `restore the key in Vault (KV data under spec.vault.kv.prefix), or accept a new key and lose those objects with ` +
    `kubectl annotate kmsdeployment ${ref.name} -n ${ref.namespace} --overwrite ${ACCEPT_NEW_KEY_ANNOTATION}=${tokens}`;
  return { status: 'False', reason, message, requeueAfterMs: LOST_KEY_RECHECK_MS };
}

export function keysStep(options: KesStepOptions = {}): KMSDeploymentStep {
  const connect = kesConnector(options, kesClient);
  return dataPathStep('keys', ConditionType.KeysReady, async (context) => {
    const { spec, object } = context;
    if (spec.mode !== 'Vault' || !spec.kes) {
      return { status: 'True', reason: ConditionReason.NotUsed,
        message: `mode ${spec.mode} uses the static key, no KES keys` };
    }
    const ref = deploymentRef(context);
    const names = pkiSecretNames(ref.name).leaves;
    const tls: ClientTls[] = [];
    for (const secretName of [names.operatorClient, names.minioClient]) {
      const found = clientTlsOf(childSecret(context, secretName), secretName);
      if ('missing' in found) return waitingForCertificates(found.missing);
      tls.push(found);
    }
    const [operatorTls, minioTls] = tls as [ClientTls, ClientTls];
    const wanted = spec.kes.keys.map((k) => k.name);
    const run: KeyRun = {
      context,
      ref,
      ledger: await ledgerOf(context, ref),
      operator: connect(ref, spec.tls.clusterDomain, operatorTls),
      minio: connect(ref, spec.tls.clusterDomain, minioTls),
    };
    const problems: Problem[] = [];
    try {
      const accepted = acceptedTokens(object.metadata.annotations);
      for (const key of wanted) {
        const problem = await ensureKey(run, key, accepted);
        if (problem) problems.push(problem);
      }
      if (spec.keyDeletionPolicy === 'Delete') await deleteRetired(run, wanted);
    } catch (err) {
      const { reason, message } = kesFailure(err);
      await context.events.emit(object, { type: 'Warning', reason, action: 'CreateKey', note: message });
      return { status: 'False', reason, message, retry: true };
    } finally {
      run.operator.close();
      run.minio.close();
      // Declared on every path that read it: what was minted is kept, and the Secret is never pruned.
      context.children.add(buildKeyCanarySecret(ref, run.ledger) as unknown as KubeObject);
      context.handoff.keyRecords = statusRecords(run.ledger);
    }
    if (problems.length > 0) {
      const result = lostKeysResult(problems, ref);
      await context.events.emit(object, { type: 'Warning', reason: result.reason, action: 'CheckKey',
        note: result.message });
      return result;
    }
    return { status: 'True', reason: ConditionReason.KeysPresent,
      message: `master keys present and verified by their canaries: ${wanted.join(', ')}` };
  });
}
