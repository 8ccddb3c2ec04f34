// The KES server config (YAML, schema of KES 2025-03-12: kesconf/config.go at that release) for one
// KMSDeployment. It holds no secret: the AppRole role-id and secret-id are `${VAR}` references that
// KES resolves from its environment at start-up, and the env comes from the AppRole Secret; with
// Kubernetes auth it names the projected ServiceAccount token file and the Vault role.
import * as yaml from 'js-yaml';
import type { DefaultedKMSDeploymentSpec } from '../api/index.ts';
import { KES_PORT } from '../workload/names.ts';
import { kesKeyNameProblem } from '../api/key-name.ts';
import { kesPaths } from './api.ts';
import { KES_APPROLE_ENV, kesFiles } from './names.ts';
import { keysInUse } from '../workload/keys-in-use.ts';
import { type DeploymentRef } from '../workload/names.ts';

export interface KesIdentities {
  /** KES identity (hex SHA-256 of the certificate's SubjectPublicKeyInfo) of MinIO's client certificate. */
  minio: string;
  /** KES identity of the operator's own client certificate. */
  operator: string;
}

export interface KesConfigInput {
  deployment: DeploymentRef;
  spec: DefaultedKMSDeploymentSpec;
  identities: KesIdentities;
  /** The Vault role KES logs in as; required with spec.vault.kesAuth Kubernetes (the AppRole login reads it from the env). */
  vaultRole?: string;
  /**
   * Keys MinIO may still generate with while a change of its keys rolls out (a server on the previous
   * template, a bucket not yet switched): granted generate besides the keys in use, if in spec.kes.keys.
   */
  keysStillInUse?: readonly string[];
}

/** The config as a plain object, in the field names and nesting KES reads. */
export interface KesConfig {
  version: 'v1';
  address: string;
  admin: { identity: string };
  tls: { key: string; cert: string };
  api: Record<string, { skip_auth: boolean; timeout: string }>;
  policy: Record<'minio' | 'operator', { allow: string[]; identities: string[] }>;
  cache: { expiry: { any: string; unused: string; offline?: string } };
  keystore: { vault: VaultKeystore };
}

interface VaultKeystore {
  endpoint: string;
  engine: string;
  version: 'v1' | 'v2';
  namespace?: string;
  prefix: string;
  approle?: { engine: string; id: string; secret: string };
  kubernetes?: { engine: string; role: string; jwt: string };
  tls?: { ca: string };
  status: { ping: string };
}

/** KES treats an admin identity that no public key hashes to as "no admin"; see docs/kes.md. */
export const DISABLED_ADMIN_IDENTITY = 'disabled';
/** How often KES checks that Vault is reachable and unsealed. */
export const VAULT_STATUS_PING = '10s';
/** Route timeout of /v1/ready; the KES default for that route. */
const READY_TIMEOUT = '15s';

const identityPattern = /^[0-9a-f]{64}$/;

/**
 * What MinIO's KES client calls, restricted to this deployment's keys: generating data keys with the
 * keys in use (its default key and the buckets' keys, keysInUse), decrypting and describing with
 * every key of spec.kes.keys (objects encrypted before a key rotation or a bucket's key change keep
 * their key and must stay readable; MinIO describes its default key every 10s), plus listing,
 * status and API listing for `mc admin kms`. KES serves only this deployment's Vault prefix, so
 * listing reveals nothing else. Not create: MinIO creates its default key at start-up when it is
 * missing (and takes a permission error as non-fatal), so with create it would mint a replacement
 * for a lost key — keys are created only by the operator, which never replaces one (docs/kes.md).
 * The operator's canaries are generated and decrypted with MinIO's identity, through these paths.
 */
export function minioPolicyPaths(keyNames: readonly string[], inUse: readonly string[] = keyNames): string[] {
  const perKey = keyNames.flatMap((key) => [
    ...(inUse.includes(key) ? [kesPaths.keyGenerate + key] : []),
    kesPaths.keyDecrypt + key,
    kesPaths.keyDescribe + key,
  ]);
  return [...perKey, `${kesPaths.keyList}*`, kesPaths.status, kesPaths.apis];
}

/**
 * What the operator does with its own identity: create the keys of the spec and generate each key's
 * canary (a data key it drops; it cannot decrypt), list keys, read the status, and (only with
 * keyDeletionPolicy Delete) delete keys that left the spec.
 */
export function operatorPolicyPaths(keyNames: readonly string[], keyDeletionPolicy: 'Retain' | 'Delete'): string[] {
  const paths = [...keyNames.flatMap((key) => [kesPaths.keyCreate + key, kesPaths.keyGenerate + key]),
    `${kesPaths.keyList}*`, kesPaths.status];
  if (keyDeletionPolicy === 'Delete') paths.push(`${kesPaths.keyDelete}*`);
  return paths;
}

function problemsOf(input: KesConfigInput): string[] {
  const { spec, identities } = input;
  const problems: string[] = [];
  if (spec.mode !== 'Vault') problems.push(`spec.mode: KES runs only in Vault mode, not in ${spec.mode} mode`);
  if (!spec.vault) problems.push('spec.vault: required to configure the KES keystore');
  if (!spec.kes) problems.push('spec.kes: required to configure KES');
  (spec.kes?.keys ?? []).forEach((key, i) => {
    const problem = kesKeyNameProblem(key.name);
    if (problem) problems.push(`spec.kes.keys[${i}].name: ${JSON.stringify(key.name)} ${problem}`);
  });
  if (spec.vault?.tls?.serverName !== undefined) {
    problems.push(
      'spec.vault.tls.serverName: KES has no setting for the name it verifies in the Vault certificate; use an address whose host is in that certificate',
    );
  }
  for (const role of ['minio', 'operator'] as const) {
    if (!identityPattern.test(identities[role])) {
      problems.push(`identities.${role}: must be 64 lowercase hex characters (a KES identity)`);
    }
  }
  if (spec.vault?.kesAuth === 'Kubernetes' && !input.vaultRole) {
    problems.push('vaultRole: required when spec.vault.kesAuth is Kubernetes');
  }
  if (identities.minio === identities.operator) {
    problems.push(
      'identities: MinIO and the operator must have different identities (KES assigns an identity to one policy only)',
    );
  }
  return problems;
}

/** The KES config object; throws naming every invalid field. */
export function buildKesConfig(input: KesConfigInput): KesConfig {
  const problems = problemsOf(input);
  const { spec, identities } = input;
  if (problems.length > 0 || !spec.vault || !spec.kes) {
    throw new Error(`cannot build the KES config: ${problems.join('; ')}`);
  }
  const { vault, kes } = spec;
  const keyNames = kes.keys.map((k) => k.name);

  const keystore: VaultKeystore = {
    endpoint: vault.address,
    engine: vault.kv.mountPath,
    version: vault.kv.version,
    ...(vault.namespace ? { namespace: vault.namespace } : {}),
    prefix: vault.kv.prefix,
    ...(vault.kesAuth === 'Kubernetes'
      ? {
        kubernetes: { engine: vault.kesKubernetes.mountPath, role: input.vaultRole as string,
          jwt: kesFiles.vaultToken },
      }
      : {
        approle: { engine: vault.appRole.mountPath, id: `\${${KES_APPROLE_ENV.roleId}}`,
          secret: `\${${KES_APPROLE_ENV.secretId}}` },
      }),
    ...(vault.tls?.caSecretRef ? { tls: { ca: kesFiles.vaultCa } } : {}),
    status: { ping: VAULT_STATUS_PING },
  };

  return {
    version: 'v1',
    address: `0.0.0.0:${KES_PORT}`,
    admin: { identity: DISABLED_ADMIN_IDENTITY },
    tls: { key: kesFiles.tlsKey, cert: kesFiles.tlsCert },
    // Kubelet probes carry no client certificate; see docs/kes.md for what skip_auth changes.
    // spec.kes.metrics: Prometheus scrapes without a client certificate too (docs/observability.md).
    api: {
      [kesPaths.ready]: { skip_auth: true, timeout: READY_TIMEOUT },
      ...(kes.metrics.enabled ? { [kesPaths.metrics]: { skip_auth: true, timeout: READY_TIMEOUT } } : {}),
    },
    policy: {
      minio: { allow: minioPolicyPaths(keyNames, [...keysInUse(spec), ...(input.keysStillInUse ?? [])]),
        identities: [identities.minio] },
      operator: { allow: operatorPolicyPaths(keyNames, spec.keyDeletionPolicy), identities: [identities.operator] },
    },
    cache: {
      expiry: { any: kes.cache.expiry.any, unused: kes.cache.expiry.unused,
        ...(kes.cache.expiry.offline ? { offline: kes.cache.expiry.offline } : {}) },
    },
    keystore: { vault: keystore },
  };
}

/** The KES config file as stored in the `<name>-kes-config` Secret. */
export function renderKesConfig(input: KesConfigInput): string {
  const config = buildKesConfig(input);
  const header =
    `# KES config of KMSDeployment ${input.deployment.namespace}/${input.deployment.name}, generated by kmsstack-operator: edits are overwritten.\n`;
  return header + yaml.dump(config, { lineWidth: -1, noRefs: true, sortKeys: false });
}

/**
 * The keys a rendered KES config lets MinIO generate data keys with; none when the text is not such a
 * config (the Secret it is read from can be edited by hand, so nothing in it is trusted beyond names).
 */
export function generateKeysOf(configYaml: string | undefined): string[] {
  if (!configYaml) return [];
  let config: unknown;
  try {
    config = yaml.load(configYaml, { schema: yaml.FAILSAFE_SCHEMA });
  } catch {
    return [];
  }
  const allow = (config as { policy?: { minio?: { allow?: unknown } } } | undefined)?.policy?.minio?.allow;
  if (!Array.isArray(allow)) return [];
  return allow.flatMap((
    path,
  ) => (typeof path === 'string' && path.startsWith(kesPaths.keyGenerate)
    ? [path.slice(kesPaths.keyGenerate.length)]
    : [])
  );
}
