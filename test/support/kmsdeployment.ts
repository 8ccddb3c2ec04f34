// The one builder of KMSDeployment objects for the tests, the fault suite and the benchmarks, in
// cert-manager's style: kmsDeployment(name, inNamespace(ns), withVault(stack.vault), withKes({...})).
// Without modifiers it is the smallest valid deployment: StaticKey mode, one MinIO server. The object
// is not validated: invalid specs are test cases too.
import { resources, type KubeObject } from '../../src/runtime/kube/resources.ts';
import { CA_SECRET, TOKEN_SECRET } from './stack.ts';

type Section = Record<string, unknown>;

/** The object a modifier changes; spec sections are plain objects, replaced or merged by the modifiers. */
export interface KMSDeploymentDraft {
  metadata: { name: string; namespace: string; annotations?: Record<string, string> };
  spec: Section & { vault?: Section; kes?: Section; minio?: Section };
}

export type KMSDeploymentModifier = (draft: KMSDeploymentDraft) => void;

/** The name of the master key MinIO uses in Vault mode (the deployments' only KES key by default). */
export const MINIO_KEY = 'minio-key-1';

/** KMSDeployment `name` with `modifiers` applied in order. */
export function kmsDeployment(name: string, ...modifiers: KMSDeploymentModifier[]): KubeObject {
  const draft: KMSDeploymentDraft = {
    metadata: { name, namespace: 'default' },
    spec: { mode: 'StaticKey', minio: { replicas: 1, keyName: 'dev-key', storage: { size: '1Gi' } } },
  };
  for (const modify of modifiers) modify(draft);
  const kv = draft.spec.vault?.['kv'] as Section | undefined;
  if (kv && kv['prefix'] === undefined) kv['prefix'] = kvPrefixOf(draft.metadata.namespace, name);
  return { apiVersion: resources.KMSDeployment.apiVersion, kind: 'KMSDeployment', metadata: draft.metadata, spec: draft.spec };
}

export function inNamespace(namespace: string): KMSDeploymentModifier {
  return (draft) => void (draft.metadata.namespace = namespace);
}

export function withAnnotations(annotations: Record<string, string>): KMSDeploymentModifier {
  return (draft) => void (draft.metadata.annotations = { ...draft.metadata.annotations, ...annotations });
}

/** The KV prefix the tests give a deployment (inside the test operator policy's kmsstack/ root). */
export function kvPrefixOf(namespace: string, name: string): string {
  return `kmsstack/${namespace}/${name}`;
}

/** The KV mount of the test operator policy for `version`: kv (v1) or kv2. */
export function kvMountOf(version: 'v1' | 'v2' = 'v1'): string {
  return version === 'v2' ? 'kv2' : 'kv';
}

export interface VaultOptions {
  kvVersion?: 'v1' | 'v2';
  /** Default kmsstack/<namespace>/<name>. */
  prefix?: string;
  /** spec.vault.appRole. */
  appRole?: Section;
  /** Trust the Vault's CA through the CA Secret of a prepared namespace (default: when the Vault has one). */
  trustCA?: boolean;
  /** spec.vault.auth; default the operator's token Secret of a prepared namespace. */
  auth?: Section;
}

/**
 * Vault mode against `vault` (a TestVault, or its address), logging in with what a prepared namespace
 * holds; KES with one key and MinIO using it. Other modifiers refine the sections afterwards.
 */
export function withVault(vault: { address: string; caPem?: string } | string, options: VaultOptions = {}): KMSDeploymentModifier {
  const { address, caPem } = typeof vault === 'string' ? { address: vault, caPem: undefined } : vault;
  return (draft) => {
    draft.spec['mode'] = 'Vault';
    draft.spec.vault = {
      address,
      ...((options.trustCA ?? caPem !== undefined) ? { tls: { caSecretRef: { name: CA_SECRET } } } : {}),
      auth: options.auth ?? { token: { secretRef: { name: TOKEN_SECRET } } },
      kv: { mountPath: kvMountOf(options.kvVersion), version: options.kvVersion ?? 'v1', prefix: options.prefix },
      ...(options.appRole ? { appRole: options.appRole } : {}),
    };
    draft.spec.kes = { keys: [{ name: MINIO_KEY }] };
    draft.spec.minio = { keyName: MINIO_KEY };
  };
}

/** Merges `fields` into spec.kes. */
export function withKes(fields: Section): KMSDeploymentModifier {
  return (draft) => void (draft.spec.kes = { ...draft.spec.kes, ...fields });
}

/** Merges `fields` into spec.minio. */
export function withMinio(fields: Section): KMSDeploymentModifier {
  return (draft) => void (draft.spec.minio = { ...draft.spec.minio, ...fields });
}

/** Merges `fields` into spec.vault. */
export function withVaultFields(fields: Section): KMSDeploymentModifier {
  return (draft) => void (draft.spec.vault = { ...draft.spec.vault, ...fields });
}

/** Sets top-level spec fields (whole sections replaced). */
export function withSpec(fields: object): KMSDeploymentModifier {
  return (draft) => void Object.assign(draft.spec, fields);
}
