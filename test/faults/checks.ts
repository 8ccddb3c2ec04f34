// What "converged" means for a Vault-mode KMSDeployment on a control plane without kubelet (KES
// pods never run, so KESAvailable stays False/WaitingForPods and the later steps wait), and the
// invariants every fault case checks: no duplicated objects, at most two live secret-ids, no key
// lost. Reads go to the API server and to Vault (as root), never to the operator.
import { setTimeout as sleep } from 'node:timers/promises';
import { kesNames } from '../../src/workload/names.ts';
import { pkiSecretNames } from '../../src/pki/names.ts';
import { minioNames } from '../../src/minio/names.ts';
import { resources, type KubeObject, type OwnedKind } from '../../src/runtime/kube/resources.ts';
import { APPROLE_ANNOTATIONS, appRoleSecretName, vaultObjectName } from '../../src/vault/names.ts';
import { KesLikeClient, readAppRoleCredentials } from '../integration/vault/fixture.ts';
import { type FaultStack, getDeployment, managedObjects } from './stack.ts';
import { kvMountOf, kvPrefixOf } from '../support/kmsdeployment.ts';

export interface Tracked {
  namespace: string;
  name: string;
  kvVersion?: 'v1' | 'v2';
}

/** The children a Vault-mode deployment has once the operator got as far as it can here. */
export function expectedChildren(name: string): Record<OwnedKind, string[]> {
  const pki = pkiSecretNames(name);
  const kes = kesNames(name);
  return {
    // MinIO serves S3 over TLS by default: its certificate, and the CA published for S3 clients.
    Secret: [pki.ca, pki.leaves.kesServer, pki.leaves.minioClient, pki.leaves.operatorClient, pki.leaves.minioServer, appRoleSecretName(name), kes.configSecret].sort(),
    ConfigMap: [minioNames(name).caConfigMap],
    Service: [kes.workload],
    ServiceAccount: [],
    Deployment: [kes.workload],
    StatefulSet: [],
  };
}

type Condition = { type: string; status: string; reason: string; message: string };

export function conditionsOf(obj: KubeObject | undefined): Condition[] {
  return ((obj?.status as { conditions?: Condition[] } | undefined)?.conditions ?? []);
}

export function conditionOf(obj: KubeObject | undefined, type: string): Condition | undefined {
  return conditionsOf(obj).find((c) => c.type === type);
}

/** Accessors of the role's live secret-ids (LIST auth/approle/role/<role>/secret-id). */
export async function secretIdAccessors(stack: FaultStack, namespace: string, name: string): Promise<string[]> {
  const res = await stack.vault.request('GET', `auth/approle/role/${vaultObjectName(namespace, name)}/secret-id?list=true`);
  if (res.status === 404) return [];
  if (res.status !== 200) throw new Error(`LIST secret-ids of ${namespace}/${name}: ${res.status}`);
  return ((res.body?.['data'] as { keys?: string[] } | undefined)?.keys ?? []).map(String);
}

async function vaultExists(stack: FaultStack, path: string): Promise<boolean> {
  const res = await stack.vault.request('GET', path);
  if (res.status === 404) return false;
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
  return true;
}

/** Why the deployment has not converged yet; empty when it has. */
export async function convergenceProblems(stack: FaultStack, tracked: Tracked): Promise<string[]> {
  const { namespace, name } = tracked;
  const obj = await getDeployment(stack, namespace, name);
  if (!obj) return ['the KMSDeployment does not exist'];
  const problems: string[] = [];
  const observed = (obj.status as { observedGeneration?: number } | undefined)?.observedGeneration;
  if (observed !== obj.metadata.generation) problems.push(`observedGeneration ${observed} != generation ${obj.metadata.generation}`);
  for (const type of ['SpecValid', 'CertificatesReady', 'VaultConfigured']) {
    const c = conditionOf(obj, type);
    if (c?.status !== 'True') problems.push(`${type}=${c?.status}/${c?.reason}: ${c?.message}`);
  }
  const kes = conditionOf(obj, 'KESAvailable');
  if (!(kes?.status === 'True' || kes?.reason === 'WaitingForPods')) problems.push(`KESAvailable=${kes?.status}/${kes?.reason}`);
  const expected = expectedChildren(name);
  for (const kind of Object.keys(expected) as OwnedKind[]) {
    const mine = (await managedObjects(stack, kind, namespace)).filter((o) => o.metadata.labels?.['app.kubernetes.io/instance'] === name);
    const names = mine.map((o) => o.metadata.name as string).sort();
    if (JSON.stringify(names) !== JSON.stringify(expected[kind])) problems.push(`${kind}s ${names.join(',')} != ${expected[kind].join(',')}`);
    for (const child of mine) {
      const owner = child.metadata.ownerReferences?.filter((ref) => ref.controller) ?? [];
      if (owner.length !== 1 || owner[0]?.uid !== obj.metadata.uid) problems.push(`${kind} ${child.metadata.name} is not controlled by the current KMSDeployment`);
    }
  }
  const role = vaultObjectName(namespace, name);
  if (!(await vaultExists(stack, `sys/policies/acl/${role}`))) problems.push(`policy ${role} missing`);
  if (!(await vaultExists(stack, `auth/approle/role/${role}`))) return [...problems, `role ${role} missing`];
  const secret = await stack.kube.get<KubeObject & { data?: Record<string, string> }>(resources.Secret, namespace, appRoleSecretName(name));
  if (secret?.data) {
    const roleIdRes = await stack.vault.request('GET', `auth/approle/role/${role}/role-id`);
    const roleId = (roleIdRes.body?.['data'] as { role_id?: string } | undefined)?.role_id;
    if (Buffer.from(secret.data['role-id'] ?? '', 'base64').toString() !== roleId) problems.push('the AppRole Secret holds another role-id');
    const accessors = await secretIdAccessors(stack, namespace, name);
    const current = secret.metadata.annotations?.[APPROLE_ANNOTATIONS.accessor];
    if (!current || !accessors.includes(current)) problems.push('the AppRole Secret names a secret-id Vault does not have');
  }
  return problems;
}

/** A deleted deployment has converged when it is gone and its role and policy are gone from Vault. */
export async function deletionProblems(stack: FaultStack, tracked: Tracked): Promise<string[]> {
  const { namespace, name } = tracked;
  const problems: string[] = [];
  if (await getDeployment(stack, namespace, name)) problems.push('the KMSDeployment still exists');
  const role = vaultObjectName(namespace, name);
  if (await vaultExists(stack, `sys/policies/acl/${role}`)) problems.push(`policy ${role} still exists`);
  if (await vaultExists(stack, `auth/approle/role/${role}`)) problems.push(`role ${role} still exists`);
  return problems;
}

/**
 * Polls until every deployment in `live` has converged and every one in `deleted` is gone; returns
 * the time it took, or throws with what was still missing.
 */
export async function waitConverged(stack: FaultStack, live: Tracked[], deleted: Tracked[] = [], timeoutMs = 60_000, isAlive: () => void = () => undefined): Promise<number> {
  const started = Date.now();
  let problems: string[] = [];
  while (Date.now() - started < timeoutMs) {
    isAlive();
    problems = [];
    for (const t of live) problems.push(...(await convergenceProblems(stack, t)).map((p) => `${t.name}: ${p}`));
    for (const t of deleted) problems.push(...(await deletionProblems(stack, t)).map((p) => `${t.name} (deleted): ${p}`));
    if (problems.length === 0) return Date.now() - started;
    await sleep(200);
  }
  throw new Error(`not converged after ${timeoutMs} ms:\n  ${problems.join('\n  ')}`);
}

/** The marker "key" KES would write: created with the deployment's AppRole credentials. */
export async function writeMarker(stack: FaultStack, tracked: Tracked, value: string): Promise<void> {
  const { roleId, secretId } = await readAppRoleCredentials(stack.kube, tracked.namespace, tracked.name);
  const kes = await KesLikeClient.login(stack.vault, roleId, secretId, kvMountOf(tracked.kvVersion), tracked.kvVersion ?? 'v1');
  await kes.create(`${kvPrefixOf(tracked.namespace, tracked.name)}/marker`, value);
}

/** The marker as root reads it (undefined when it is gone). */
export async function readMarker(stack: FaultStack, tracked: Tracked): Promise<string | undefined> {
  const path = `${kvPrefixOf(tracked.namespace, tracked.name)}/marker`;
  const v2 = tracked.kvVersion === 'v2';
  const res = await stack.vault.request('GET', v2 ? `kv2/data/${path}` : `kv/${path}`);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`read marker of ${tracked.name}: ${res.status}`);
  const data = res.body?.['data'] as Record<string, unknown> | undefined;
  return (v2 ? (data?.['data'] as Record<string, unknown> | undefined)?.['marker'] : data?.['marker']) as string | undefined;
}

/** The marker as KES would read it with the deployment's current AppRole credentials. */
export async function readMarkerAsKes(stack: FaultStack, tracked: Tracked): Promise<string | undefined> {
  const { roleId, secretId } = await readAppRoleCredentials(stack.kube, tracked.namespace, tracked.name);
  const kes = await KesLikeClient.login(stack.vault, roleId, secretId, kvMountOf(tracked.kvVersion), tracked.kvVersion ?? 'v1');
  return kes.read(`${kvPrefixOf(tracked.namespace, tracked.name)}/marker`);
}

/** Polls the secret-id count of some deployments in the background and keeps the maximum seen. */
export class SecretIdWatcher {
  readonly max = new Map<string, number>();
  private running = true;
  private readonly loop: Promise<void>;

  constructor(stack: FaultStack, names: () => Tracked[], intervalMs = 150) {
    this.loop = (async () => {
      while (this.running) {
        for (const t of names()) {
          const count = (await secretIdAccessors(stack, t.namespace, t.name).catch(() => [])).length;
          this.max.set(t.name, Math.max(this.max.get(t.name) ?? 0, count));
        }
        await sleep(intervalMs);
      }
    })();
  }

  get highest(): number {
    return Math.max(0, ...this.max.values());
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
