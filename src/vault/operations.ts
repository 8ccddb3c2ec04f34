// Typed Vault endpoints the operator uses, all shared by Vault and OpenBao. Each takes the token
// it runs with; reads return undefined for "not there" so callers can compare before writing.
import { authOf, dataOf, type VaultBody, type VaultClient } from './client.ts';
import type { MountDescription } from './kv-mount.ts';
import { kesKeyNameProblem } from '../api/key-name.ts';
import { quoteUntrusted, vaultPath } from './paths.ts';
import type { KvVersion } from './settings.ts';

export interface LoginResult {
  token: string;
  accessor: string;
  /** Seconds; 0 means the token does not expire (root tokens). */
  leaseSeconds: number;
  renewable: boolean;
  policies: string[];
}

function loginResult(body: VaultBody): LoginResult {
  const auth = authOf(body);
  const token = auth['client_token'];
  if (typeof token !== 'string' || token === '') throw new Error('Vault login answered without a client token');
  return {
    token,
    accessor: String(auth['accessor'] ?? ''),
    leaseSeconds: Number(auth['lease_duration'] ?? 0),
    renewable: auth['renewable'] === true,
    policies: Array.isArray(auth['token_policies']) ? auth['token_policies'].map(String) : [],
  };
}

export async function health(client: VaultClient): Promise<{ initialized: boolean; sealed: boolean; version: string }> {
  // Codes chosen so every state answers 200 and the body tells the state.
  const body = await client.call({
    method: 'GET',
    path: 'sys/health?standbyok=true&perfstandbyok=true&sealedcode=200&uninitcode=200',
    operation: 'read Vault health',
    withoutNamespace: true,
  });
  return { initialized: body?.['initialized'] === true, sealed: body?.['sealed'] === true,
    version: String(body?.['version'] ?? '') };
}

export async function loginKubernetes(client: VaultClient, mountPath: string, role: string,
  jwt: string): Promise<LoginResult>
{
  const body = await client.call({
    method: 'POST',
    path: vaultPath`auth/${mountPath}/login`,
    json: { role, jwt },
    login: true,
    secrets: [jwt],
    operation: `log in with Kubernetes auth (mount ${mountPath}, role ${role})`,
  });
  return loginResult(body);
}

export async function loginAppRole(client: VaultClient, mountPath: string, roleId: string,
  secretId: string): Promise<LoginResult>
{
  const body = await client.call({
    method: 'POST',
    path: vaultPath`auth/${mountPath}/login`,
    json: { role_id: roleId, secret_id: secretId },
    login: true,
    secrets: [secretId],
    operation: `log in with AppRole (mount ${mountPath})`,
  });
  return loginResult(body);
}

/** TTL and renewability of `token` (a read: no audit write). */
export async function lookupSelf(client: VaultClient,
  token: string): Promise<{ ttlSeconds: number; renewable: boolean; policies: string[] }>
{
  const data = dataOf(
    await client.call({ method: 'GET', path: 'auth/token/lookup-self', token, operation: 'look up the operator token',
      login: true }),
  );
  return {
    ttlSeconds: Number(data['ttl'] ?? 0),
    renewable: data['renewable'] === true,
    policies: Array.isArray(data['policies']) ? data['policies'].map(String) : [],
  };
}

export async function renewSelf(client: VaultClient, token: string): Promise<LoginResult> {
  const body = await client.call({ method: 'POST', path: 'auth/token/renew-self', token, json: {},
    operation: 'renew the operator token' });
  return { ...loginResult({ auth: { ...authOf(body), client_token: token } }) };
}

export async function readSecretsMount(client: VaultClient, token: string,
  path: string): Promise<MountDescription | undefined>
{
  const body = await readMountLike(client, token, vaultPath`sys/mounts/${path}`, `read secrets engine mount ${path}`);
  return body &&
    { type: String(body['type'] ?? ''),
      options: (body['options'] as Record<string, unknown> | null | undefined) ?? null };
}

export async function enableSecretsMount(client: VaultClient, token: string, path: string,
  body: Record<string, unknown>): Promise<void>
{
  await client.call({ method: 'POST', path: vaultPath`sys/mounts/${path}`, token, json: body,
    operation: `enable secrets engine at ${path}` });
}

export async function readAuthMount(client: VaultClient, token: string,
  path: string): Promise<{ type: string } | undefined>
{
  const body = await readMountLike(client, token, vaultPath`sys/auth/${path}`, `read auth method mount ${path}`);
  return body && { type: String(body['type'] ?? '') };
}

export async function enableAuthMount(client: VaultClient, token: string, path: string, type: string): Promise<void> {
  await client.call({ method: 'POST', path: vaultPath`sys/auth/${path}`, token,
    json: { type, description: 'kmsstack-operator' }, operation: `enable auth method ${type} at ${path}` });
}

// sys/mounts/<path> and sys/auth/<path> answer 400 "No secret engine mount at" / "No auth engine at" for a missing mount.
async function readMountLike(client: VaultClient, token: string, path: string,
  operation: string): Promise<Record<string, unknown> | undefined>
{
  try {
    const body = await client.callOptional({ method: 'GET', path, token, operation });
    if (!body) return undefined;
    const data = dataOf(body);
    return Object.keys(data).length > 0 ? data : body;
  } catch (err) {
    const e = err as { reason?: string; message?: string };
    if (e.reason === 'InvalidRequest' && /No (?:secret engine mount|auth engine) at/i.test(e.message ?? '')) {
      return undefined;
    }
    throw err;
  }
}

export async function readPolicy(client: VaultClient, token: string, name: string): Promise<string | undefined> {
  const body = await client.callOptional({ method: 'GET', path: vaultPath`sys/policies/acl/${name}`, token,
    operation: `read policy ${name}` });
  if (!body) return undefined;
  const policy = dataOf(body)['policy'] ?? body['policy'];
  return typeof policy === 'string' ? policy : undefined;
}

export async function writePolicy(client: VaultClient, token: string, name: string, policy: string): Promise<void> {
  await client.call({ method: 'PUT', path: vaultPath`sys/policies/acl/${name}`, token, json: { policy },
    operation: `write policy ${name}` });
}

export async function deletePolicy(client: VaultClient, token: string, name: string): Promise<void> {
  await client.call({ method: 'DELETE', path: vaultPath`sys/policies/acl/${name}`, token,
    operation: `delete policy ${name}` });
}

const rolePath = (mount: string, role: string) => vaultPath`auth/${mount}/role/${role}`;

export async function readRole(client: VaultClient, token: string, mount: string,
  role: string): Promise<Record<string, unknown> | undefined>
{
  const body = await client.callOptional({ method: 'GET', path: rolePath(mount, role), token,
    operation: `read AppRole role ${role}` });
  return body && dataOf(body);
}

export async function writeRole(client: VaultClient, token: string, mount: string, role: string,
  fields: Record<string, unknown>): Promise<void>
{
  await client.call({ method: 'POST', path: rolePath(mount, role), token, json: fields,
    operation: `write AppRole role ${role}` });
}

export async function deleteRole(client: VaultClient, token: string, mount: string, role: string): Promise<void> {
  await client.call({ method: 'DELETE', path: rolePath(mount, role), token, operation: `delete AppRole role ${role}` });
}

export async function readRoleId(client: VaultClient, token: string, mount: string, role: string): Promise<string> {
  const body = await client.call({ method: 'GET', path: `${rolePath(mount, role)}/role-id`, token,
    operation: `read role-id of ${role}` });
  const roleId = dataOf(body)['role_id'];
  if (typeof roleId !== 'string' || roleId === '') {
    throw new Error(`read role-id of ${role}: Vault answered without a role_id`);
  }
  return roleId;
}

export interface IssuedSecretId {
  secretId: string;
  accessor: string;
  /** 0: never expires. */
  ttlSeconds: number;
}

/** A new secret-id of `role`, tagged with `metadata`; `limits` makes it short-lived and single-use (the finalizer's own login as the role), else the role's limits hold. */
export async function generateSecretId(
  client: VaultClient,
  token: string,
  mount: string,
  role: string,
  metadata: Record<string, string>,
  limits?: { ttlSeconds: number; uses: number },
): Promise<IssuedSecretId> {
  const json = { metadata: JSON.stringify(metadata),
    ...(limits ? { ttl: `${limits.ttlSeconds}s`, num_uses: limits.uses } : {}) };
  const body = await client.call({
    method: 'POST',
    path: `${rolePath(mount, role)}/secret-id`,
    token,
    json,
    operation: `generate a secret-id for ${role}`,
  });
  const data = dataOf(body);
  const secretId = data['secret_id'];
  const accessor = data['secret_id_accessor'];
  if (typeof secretId !== 'string' || typeof accessor !== 'string') {
    throw new Error(`generate a secret-id for ${role}: unexpected answer`);
  }
  return { secretId, accessor, ttlSeconds: Number(data['secret_id_ttl'] ?? 0) };
}

/** Accessors of the role's secret-ids (a LIST: no audit write). */
export async function listSecretIdAccessors(client: VaultClient, token: string, mount: string,
  role: string): Promise<string[]>
{
  const body = await client.callOptional({ method: 'GET', path: `${rolePath(mount, role)}/secret-id?list=true`, token,
    operation: `list secret-id accessors of ${role}` });
  const keys = dataOf(body)['keys'];
  return Array.isArray(keys) ? keys.map(String) : [];
}

export async function destroySecretIdByAccessor(client: VaultClient, token: string, mount: string, role: string,
  accessor: string): Promise<void>
{
  await client.call({
    method: 'POST',
    path: `${rolePath(mount, role)}/secret-id-accessor/destroy`,
    token,
    json: { secret_id_accessor: accessor },
    operation: `destroy secret-id ${accessor} of ${role}`,
  });
}

/** Where KES keeps entries: the listing path and the per-key delete and read paths, encoded. */
export function kvKeyPaths(mount: string, version: KvVersion,
  prefix: string): { list: string; entry: (key: string) => string; read: (key: string) => string }
{
  const meta = version === 'v2' ? vaultPath`${mount}/metadata/${prefix}` : vaultPath`${mount}/${prefix}`;
  const data = version === 'v2' ? vaultPath`${mount}/data/${prefix}` : vaultPath`${mount}/${prefix}`;
  return { list: meta, entry: (key) => `${meta}/${keySegment(key)}`, read: (key) => `${data}/${keySegment(key)}` };
}

/** A key name as one path segment: only names KES itself could have made (kesKeyNameProblem) are sent. */
function keySegment(key: string): string {
  const problem = kesKeyNameProblem(key);
  if (problem) throw new Error(`refusing the Vault entry name ${quoteUntrusted(key)} as a key: it ${problem}`);
  return vaultPath`${key}`;
}

export async function listKvKeys(client: VaultClient, token: string, mount: string, version: KvVersion,
  prefix: string): Promise<string[]>
{
  const { list } = kvKeyPaths(mount, version, prefix);
  const body = await client.callOptional({ method: 'GET', path: `${list}?list=true`, token,
    operation: `list keys under ${mount}/${prefix}` });
  const keys = dataOf(body)['keys'];
  return Array.isArray(keys) ? keys.map(String) : [];
}

/** Deletes one entry with every version (KV v2 metadata delete, as KES does); `key` must be a KES key name. */
export async function deleteKvKey(client: VaultClient, token: string, mount: string, version: KvVersion, prefix: string,
  key: string): Promise<void>
{
  const path = kvKeyPaths(mount, version, prefix).entry(key);
  await client.call({ method: 'DELETE', path, token, operation: `delete key ${mount}/${prefix}/${key}` });
}
