// How the keys and verify steps reach KES: at its Service (or an endpoint a test names), as one of the
// client identities the PKI step issued, and how they report a failed call. Both steps take the same
// options, so a test plugs in one stand-in.
import { type DataKey, KesClient, type KesClientOptions } from '../../kes/client.ts';
import { KesError } from '../../kes/errors.ts';
import { type DeploymentRef, kesEndpoint } from '../../workload/names.ts';
import type { ClientTls } from '../../workload/secret-data.ts';
import { ConditionReason } from '../../api/reasons.ts';

/** The KES calls of a data-key round trip (the verify step); a KesClient, or a stand-in in tests. */
export interface KesRoundTripOps {
  generateKey(name: string, context?: Uint8Array): Promise<DataKey>;
  decrypt(name: string, ciphertext: Uint8Array, context?: Uint8Array): Promise<Buffer>;
  close(): void;
}

/** The KES calls of the keys step: the round trip, and the keys' life cycle. */
export interface KesKeyOps extends KesRoundTripOps {
  listKeys(): Promise<string[]>;
  createKey(name: string): Promise<'created' | 'exists'>;
  deleteKey(name: string): Promise<void>;
}

/** Options of a step that calls KES; by default KES's Service DNS name and a KesClient. */
export interface KesAccessOptions<Ops extends KesRoundTripOps> {
  /** Where the operator reaches KES (override when running outside the cluster). */
  endpoint?: (ref: DeploymentRef, clusterDomain: string) => string;
  /** Builds the client. */
  connect?: (options: KesClientOptions) => Ops;
}

/** Opens a client of the KES of `ref` with the identity `tls`. */
export type KesConnector<Ops extends KesRoundTripOps> = (ref: DeploymentRef, clusterDomain: string,
  tls: ClientTls) => Ops;

/** The connector of a step's options. */
export function kesConnector<Ops extends KesRoundTripOps>(options: KesAccessOptions<Ops>,
  fallback: (options: KesClientOptions) => Ops): KesConnector<Ops>
{
  const connect = options.connect ?? fallback;
  const endpointOf = options.endpoint ?? kesEndpoint;
  return (ref, clusterDomain, tls) =>
    connect({ endpoint: endpointOf(ref, clusterDomain), clientCert: tls.cert, clientKey: tls.key, ca: tls.ca });
}

/** A real KES client. */
export const kesClient = (options: KesClientOptions): KesClient => new KesClient(options);

/** The condition reason of each KES error. */
const failureReasons: Record<KesError['reason'], string> = {
  PolicyDenied: ConditionReason.KESPolicyDenied,
  KeyNotFound: ConditionReason.KeyNotFound,
  KeyExists: ConditionReason.KeyExists,
  DecryptionFailed: ConditionReason.DecryptionFailed,
  BadRequest: ConditionReason.KESRequestRejected,
  KeystoreError: ConditionReason.KeystoreError,
  KeystoreUnreachable: ConditionReason.KeystoreUnreachable,
  Unreachable: ConditionReason.KESUnreachable,
  UnexpectedResponse: ConditionReason.KESError,
};

/** What a user can check, by KES error. */
const failureHints: Partial<Record<KesError['reason'], string>> = {
  PolicyDenied:
    'the identity is unknown to KES or its policy does not allow the call (KES may still run an older config)',
  KeystoreError:
    'KES could not use Vault: check the AppRole policy, the KV mount and that Vault is unsealed (the KES log names the cause)',
  KeystoreUnreachable: 'KES cannot reach Vault',
  Unreachable: 'KES does not answer',
};

/** The condition reason and message of an error thrown while talking to KES, alike for every step. */
export function kesFailure(err: unknown): { reason: string; message: string } {
  if (!(err instanceof KesError)) {
    return { reason: ConditionReason.KESError, message: err instanceof Error ? err.message : String(err) };
  }
  const hint = failureHints[err.reason];
  return { reason: failureReasons[err.reason], message: hint ? `${err.message}: ${hint}` : err.message };
}
