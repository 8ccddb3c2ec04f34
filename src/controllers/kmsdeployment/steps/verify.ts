// Stage 8 of the data path (EncryptionVerified): the chain works end to end. With MinIO's own
// identity, generate a data key under MinIO's key and decrypt it again — exactly the calls MinIO
// makes for an SSE-S3 object, through KES's policy for MinIO, KES's Vault login and the stored
// master key. The data key is compared and dropped; it is never logged or reported. A fresh round
// trip also passes with a replaced key, so the key's canary (minted once by the keys step) must
// decrypt too: that proves the key is the one objects were encrypted with.
import { ConditionReason } from '../../../api/reasons.ts';
import { ConditionType } from '../../../api/constants.ts';
import { timingSafeEqual } from 'node:crypto';
import { KesError } from '../../../kes/errors.ts';
import { canaryContext, keyCanarySecretName, readLedger } from '../../../kes/key-records.ts';
import { type KesAccessOptions, kesClient, kesConnector, kesFailure, type KesRoundTripOps } from '../kes-access.ts';
import { clientTlsOf } from '../../../workload/secret-data.ts';
import { pkiSecretNames } from '../../../pki/names.ts';
import { childSecret, dataPathStep, deploymentRef, type KMSDeploymentStep,
  waitingForCertificates } from '../context.ts';
import { recordEncryptionVerified } from '../status-metrics.ts';

/** How the verify step reaches KES. */
export type VerifyStepOptions = KesAccessOptions<KesRoundTripOps>;

export function verifyStep(options: VerifyStepOptions = {}): KMSDeploymentStep {
  const connect = kesConnector(options, kesClient);
  return dataPathStep('verify', ConditionType.EncryptionVerified, async (context) => {
    const { spec } = context;
    if (!spec.verifyEncryption) {
      return { status: 'True', reason: ConditionReason.Disabled, message: 'spec.verifyEncryption is false' };
    }
    if (spec.mode !== 'Vault') {
      return { status: 'True', reason: ConditionReason.NotApplicable,
        message: `mode ${spec.mode} has no KES to verify; MinIO's readiness check uses the static key` };
    }
    const ref = deploymentRef(context);
    const secretName = pkiSecretNames(ref.name).leaves.minioClient;
    const tls = clientTlsOf(childSecret(context, secretName), secretName);
    if ('missing' in tls) return waitingForCertificates(tls.missing);

    const keyName = spec.minio.keyName;
    const associated = Buffer.from(JSON.stringify({ 'kmsstack.io/verify': `${ref.namespace}/${ref.name}` }));
    const client = connect(ref, spec.tls.clusterDomain, tls);
    try {
      const dataKey = await client.generateKey(keyName, associated);
      const plaintext = await client.decrypt(keyName, dataKey.ciphertext, associated);
      const same = plaintext.length === dataKey.plaintext.length && timingSafeEqual(plaintext, dataKey.plaintext);
      dataKey.plaintext.fill(0);
      plaintext.fill(0);
      if (!same) {
        return { status: 'False', reason: ConditionReason.RoundTripMismatch,
          message: `KES decrypted a data key of ${keyName} to a different value`, requeueAfterMs: 60_000 };
      }
      const canary = readLedger(childSecret(context, keyCanarySecretName(ref.name)), undefined).canaries.get(keyName);
      if (!canary) {
        return { status: 'False', reason: ConditionReason.CanaryMissing,
          message: `no canary of key ${keyName} is recorded yet`, requeueAfterMs: 10_000 };
      }
      (await client.decrypt(keyName, canary, canaryContext(ref, keyName))).fill(0);
    } catch (err) {
      if (err instanceof KesError && err.reason === 'DecryptionFailed') {
        return { status: 'False', reason: ConditionReason.KeyReplaced,
          message:
            `the canary of key ${keyName} no longer decrypts: the key in Vault is not the one objects were encrypted with`,
          requeueAfterMs: 60_000 };
      }
      const { reason, message } = kesFailure(err);
      return { status: 'False', reason, message, requeueAfterMs: 30_000 };
    } finally {
      client.close();
    }
    recordEncryptionVerified(context.object, new Date());
    return { status: 'True', reason: ConditionReason.RoundTripSucceeded,
      message:
        `generated and decrypted a data key with MinIO's identity and key ${keyName}, and decrypted its canary` };
  });
}
