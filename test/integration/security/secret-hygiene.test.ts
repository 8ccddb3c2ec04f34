// Secret hygiene: the operator runs as a process (log level debug, so it writes all it can) against
// a real control plane and Vault, in Vault mode with both login methods, a secret-id rotation, a
// refused token and a token without permissions (error paths), a deletion (cleanup path), plus a
// StaticKey deployment (generated MinIO root password and static key). Every secret that exists
// during the run is collected — from Vault's raw audit log (every token and secret-id Vault issued
// or received), the Secrets (private keys, passwords, the static key, secret-ids) and the inputs
// (operator token, ServiceAccount JWT) — and none may appear, as text or base64, in the operator's
// output, in Events, in status or conditions, or in annotations/labels of Secrets it writes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resources, type KubeObject } from '../../../src/runtime/kube/resources.ts';
import { APPROLE_ANNOTATIONS, appRoleSecretName } from '../../../src/vault/names.ts';
import { waitFor } from '../../env/process.ts';
import { conditionOf, secretIdAccessors } from '../../faults/checks.ts';
import { OperatorProcess } from '../../faults/operator.ts';
import { type FaultStack, getDeployment, startFaultStack, vaultDeployment } from '../../faults/stack.ts';
import { inNamespace, kmsDeployment } from '../../support/kmsdeployment.ts';
import { TOKEN_SECRET } from '../../support/stack.ts';
import { enableOperatorKubernetesAuth, KUBERNETES_AUTH_ROLE } from './kubernetes-auth.ts';
import { putSecret } from '../../support/kube.ts';

const NS = 'hygiene';

/** Fields of Vault's raw audit records that carry credentials (accessors and role-ids do not). */
const SECRET_AUDIT_FIELDS = new Set(['client_token', 'secret_id', 'jwt', 'token']);

function collectAuditSecrets(node: unknown, into: Map<string, string>, path: string): void {
  if (typeof node === 'string') {
    const field = path.split('.').pop() ?? '';
    // response.data.id of a token lookup is the token itself; request.id is only the audit's request id.
    if (node.length >= 16 && (SECRET_AUDIT_FIELDS.has(field) || path.endsWith('response.data.id')) && !into.has(node)) into.set(node, `Vault audit ${path}`);
  } else if (Array.isArray(node)) {
    node.forEach((item) => collectAuditSecrets(item, into, path));
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) collectAuditSecrets(value, into, path ? `${path}.${key}` : key);
  }
}

/** The ways a secret could leak into text: itself, base64, and each long line of a PEM body. */
function needles(value: string): string[] {
  const forms = [value, Buffer.from(value).toString('base64')];
  // The static key is "<name>:<base64 key>": the key alone must not show either.
  if (/^[\w.-]+:[A-Za-z0-9+/=]{40,}$/.test(value)) forms.push(value.slice(value.indexOf(':') + 1));
  if (value.includes('-----BEGIN')) {
    forms.push(...value.split('\n').map((line) => line.trim()).filter((line) => line.length >= 40 && !line.startsWith('-----')));
  }
  return forms;
}

describe('no secret in logs, Events, status, errors, or Secret metadata', { timeout: 300_000 }, () => {
  let stack: FaultStack;
  let operator: OperatorProcess;
  const rawAudit = () => join(stack.dir, 'raw-audit.log');
  const inputs = new Map<string, string>();

  before(async () => {
    stack = await startFaultStack();
    await stack.vault.request('PUT', 'sys/audit/raw', { type: 'file', options: { file_path: rawAudit(), log_raw: 'true' } });
    await stack.prepareNamespace(NS); // the operator token (operator policy) in Secret vault-operator-token
    const k8sAuth = await enableOperatorKubernetesAuth(stack);
    inputs.set(k8sAuth.jwt, 'the operator ServiceAccount JWT');
    inputs.set(k8sAuth.reviewerJwt, 'the token reviewer JWT');
    // A token Vault refuses, and a valid token without the operator policy (AuthFailed, PermissionDenied).
    const refused = `hvs.${'CAESIJ'}${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64url')}`;
    const weak = (await stack.vault.request('POST', 'auth/token/create', { policies: ['default'], ttl: '1h' })).body?.['auth'] as { client_token: string };
    await putSecret(stack.kube, NS, 'refused-token', { token: refused });
    await putSecret(stack.kube, NS, 'weak-token', { token: weak.client_token });
    inputs.set(refused, 'a refused Vault token');
    inputs.set(weak.client_token, 'a Vault token without the operator policy');
    inputs.set(stack.vault.rootToken, 'the root token (never given to the operator)');

    const withAuth = (name: string, auth: Record<string, unknown>, appRole: Record<string, string> = {}) => {
      const obj = vaultDeployment(stack, NS, name);
      const vault = (obj.spec as { vault: Record<string, unknown> }).vault;
      vault.auth = auth;
      vault.appRole = { ...(vault.appRole as object), ...appRole };
      return obj;
    };
    await stack.kube.create(withAuth('by-token', { token: { secretRef: { name: TOKEN_SECRET } } }, { secretIDTTL: '60s', secretIDRenewBefore: '52s' }));
    await stack.kube.create(withAuth('by-k8s', { kubernetes: { role: KUBERNETES_AUTH_ROLE } }));
    await stack.kube.create(withAuth('refused', { token: { secretRef: { name: 'refused-token' } } }));
    await stack.kube.create(withAuth('weak', { token: { secretRef: { name: 'weak-token' } } }));
    await stack.kube.create(kmsDeployment('static', inNamespace(NS)));
    operator = stack.startOperator({
      leaseNamespace: NS, leaseName: 'hygiene', logLevel: 'debug',
      env: k8sAuth.operatorEnv,
    });
  });

  after(async () => {
    await stack?.stop();
  });

  const reason = async (name: string, type = 'VaultConfigured') => conditionOf(await getDeployment(stack, NS, name), type);

  it('runs the operator through set-up, rotation, failures and deletion', async () => {
    await operator.waitUntilReconciling();
    for (const name of ['by-token', 'by-k8s']) {
      await waitFor(`${name} VaultConfigured=True`, async () => ((await reason(name))?.status === 'True' ? true : undefined), 60_000, 200);
    }
    assert.equal((await waitFor('refused AuthFailed', async () => (await reason('refused'))?.reason === 'AuthFailed' ? 'AuthFailed' : undefined, 60_000, 200)), 'AuthFailed');
    await waitFor('weak PermissionDenied', async () => ((await reason('weak'))?.reason === 'PermissionDenied' ? true : undefined), 60_000, 200);
    await waitFor('static MinIO credentials', async () => ((await stack.kube.get(resources.Secret, NS, 'static-minio-root')) ? true : undefined), 60_000, 200);
    // The 60 s secret-id is due 8 s after issue: a rotation issues a second one.
    await waitFor('a secret-id rotation', async () => ((await secretIdAccessors(stack, NS, 'by-token')).length >= 2 ? true : undefined), 60_000, 500);
    await stack.kube.delete(resources.KMSDeployment, NS, 'by-k8s');
    await waitFor('by-k8s cleaned up and gone', async () => ((await getDeployment(stack, NS, 'by-k8s')) ? undefined : true), 60_000, 200);
    operator.assertAlive();
    await operator.stop();
  });

  it('finds none of the secrets in what the operator wrote', async () => {
    const secrets = new Map(inputs);
    assert.ok(existsSync(rawAudit()), 'the raw audit device logged');
    for (const line of readFileSync(rawAudit(), 'utf8').split('\n').filter(Boolean)) collectAuditSecrets(JSON.parse(line), secrets, '');
    const managed = (await stack.kube.list(resources.Secret, NS)).items as Array<KubeObject & { data?: Record<string, string> }>;
    const decode = (s: KubeObject & { data?: Record<string, string> }, key: string) => Buffer.from(s.data?.[key] ?? '', 'base64').toString();
    for (const s of managed) {
      for (const key of Object.keys(s.data ?? {})) {
        const value = decode(s, key);
        if (/^(tls\.key|secret-id|rootPassword|kms-secret-key|token)$/.test(key) && value.length >= 8 && !secrets.has(value)) secrets.set(value, `Secret ${s.metadata.name} ${key}`);
      }
    }
    const kinds = [...secrets.values()];
    // The run must have produced each kind of secret, or this test proves nothing.
    for (const expected of ['secret_id', 'client_token', 'tls.key', 'rootPassword', 'kms-secret-key', 'the operator ServiceAccount JWT', 'a refused Vault token']) {
      assert.ok(kinds.some((k) => k.includes(expected)), `no ${expected} among the collected secrets: ${kinds.join(', ')}`);
    }
    assert.ok(kinds.filter((k) => k.includes('tls.key')).length >= 5, 'CA and leaf private keys of both Vault-mode deployments');

    const written = (await stack.kube.list(resources.Secret, NS, { labelSelector: 'app.kubernetes.io/managed-by=kmsstack-operator' })).items;
    const haystacks: Array<[string, string]> = [
      ['operator output', operator.output()],
      ['Events', JSON.stringify((await stack.kube.list(resources.Event, NS)).items)],
      ['core Events', JSON.stringify((await stack.kube.request<{ items: unknown[] }>('GET', `/api/v1/namespaces/${NS}/events`, { resource: 'events', verb: 'list' })).items)],
      ['KMSDeployments (status, conditions, annotations)', JSON.stringify((await stack.kube.list(resources.KMSDeployment, NS)).items)],
      ['annotations and labels of the Secrets the operator writes', JSON.stringify(written.map((s) => [s.metadata.name, s.metadata.annotations, s.metadata.labels]))],
    ];
    assert.ok(operator.output().length > 10_000 && haystacks[1]![1].length > 1000, 'there was output to search');
    assert.ok(written.some((s) => s.metadata.name === appRoleSecretName('by-token') && s.metadata.annotations?.[APPROLE_ANNOTATIONS.accessor]), 'the AppRole Secret carries its (non-secret) annotations');
    // Positive control: the search finds secrets where they are meant to be (base64 in Secret data, raw in the audit log).
    const approle = managed.find((m) => m.metadata.name === appRoleSecretName('by-token'));
    const secretId = decode(approle as KubeObject & { data?: Record<string, string> }, 'secret-id');
    assert.ok(needles(secretId).some((n) => JSON.stringify(approle?.data).includes(n)) && readFileSync(rawAudit(), 'utf8').includes(secretId), 'the search finds a secret-id where it belongs');
    const leaks: string[] = [];
    for (const [value, what] of secrets) {
      for (const [where, text] of haystacks) {
        if (needles(value).some((needle) => text.includes(needle))) leaks.push(`${what} in ${where}`);
      }
    }
    assert.deepEqual(leaks, [], `secrets leaked (${secrets.size} secrets checked)`);
    console.log(`secret hygiene: ${secrets.size} secret values checked against ${haystacks.map(([w, t]) => `${w} (${t.length} chars)`).join(', ')}`);
  });
});
