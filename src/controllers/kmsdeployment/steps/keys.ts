// Stage 6 of the data path (KeysReady): the master keys of spec.kes.keys exist in KES (guide step
// 4.3), created with the operator's own identity. One listing per reconcile; a key is created only
// when it is missing, so a reconcile where nothing changed writes nothing to KES or Vault. With
// keyDeletionPolicy Delete, keys that left the spec are deleted.
import { KesClient, type KesClientOptions } from '../../../kes/client.ts';
import { kesFailure } from '../../../kes/failure.ts';
import { kesEndpoint, type DeploymentRef } from '../../../kes/names.ts';
import { clientTlsOf } from '../../../kes/secret-data.ts';
import { pkiSecretNames } from '../../../pki/names.ts';
import { KeyedBackoff } from '../../../runtime/backoff.ts';
import type { StepResult } from '../../../runtime/step.ts';
import type { KMSDeploymentStep } from '../reconcile.ts';
import { childSecret, deploymentRef } from './kes.ts';

export const KEYS_CONDITION = 'KeysReady';

/** The KES calls this step makes; a KesClient, or a stand-in in tests. */
export interface KesKeyOps {
  listKeys(): Promise<string[]>;
  createKey(name: string): Promise<'created' | 'exists'>;
  deleteKey(name: string): Promise<void>;
  close(): void;
}

export interface KesStepOptions {
  /** Where the operator reaches KES; default its Service DNS name (override when running outside the cluster). */
  endpoint?: (ref: DeploymentRef, clusterDomain: string) => string;
  /** Builds the client; default a KesClient. */
  connect?: (options: KesClientOptions) => KesKeyOps;
  backoff?: KeyedBackoff;
}

export function keysStep(options: KesStepOptions = {}): KMSDeploymentStep {
  const connect = options.connect ?? ((o: KesClientOptions) => new KesClient(o));
  const endpointOf = options.endpoint ?? kesEndpoint;
  const backoff = options.backoff ?? new KeyedBackoff({ baseMs: 2_000, maxMs: 300_000 });
  return {
    name: 'keys',
    condition: KEYS_CONDITION,
    async run(context): Promise<StepResult> {
      const { spec, object } = context;
      if (spec.mode !== 'Vault' || !spec.kes) return { status: 'True', reason: 'NotUsed', message: `mode ${spec.mode} uses the static key, no KES keys` };
      const ref = deploymentRef(context);
      const secretName = pkiSecretNames(ref.name).leaves.operatorClient;
      const tls = clientTlsOf(childSecret(context, secretName), secretName);
      if ('missing' in tls) return { status: 'False', reason: 'WaitingForCertificates', message: tls.missing, requeueAfterMs: 10_000 };

      const wanted = spec.kes.keys.map((k) => k.name);
      const key = `${ref.namespace}/${ref.name}`;
      const client = connect({ endpoint: endpointOf(ref, spec.tls.clusterDomain), clientCert: tls.cert, clientKey: tls.key, ca: tls.ca });
      try {
        const existing = new Set(await client.listKeys());
        for (const name of wanted.filter((n) => !existing.has(n))) {
          if ((await client.createKey(name)) === 'created') {
            await context.events.emit(object, { type: 'Normal', reason: 'KeyCreated', action: 'CreateKey', note: `created master key ${name} in KES` });
          }
        }
        if (spec.keyDeletionPolicy === 'Delete') {
          for (const name of [...existing].filter((n) => !wanted.includes(n))) {
            await client.deleteKey(name);
            await context.events.emit(object, {
              type: 'Warning',
              reason: 'KeyDeleted',
              action: 'DeleteKey',
              note: `deleted master key ${name}: it left spec.kes.keys and keyDeletionPolicy is Delete; data encrypted with it can no longer be decrypted`,
            });
          }
        }
      } catch (err) {
        const { reason, message } = kesFailure(err);
        await context.events.emit(object, { type: 'Warning', reason, action: 'CreateKey', note: message });
        return { status: 'False', reason, message, requeueAfterMs: backoff.next(key) };
      } finally {
        client.close();
      }
      backoff.forget(key);
      return { status: 'True', reason: 'KeysPresent', message: `master keys present: ${wanted.join(', ')}` };
    },
  };
}
