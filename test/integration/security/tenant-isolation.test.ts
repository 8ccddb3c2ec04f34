// Tenant isolation through the operator (a confused-deputy check). With Kubernetes auth the operator
// acts in Vault with its own identity for every namespace it watches and writes a KES policy for the
// spec.vault.kv.prefix a KMSDeployment names. Without a rule, a user who may create KMSDeployments in
// namespace team-b, and holds no Vault credential at all, could name team-a's prefix and receive, in
// a Secret of team-b, AppRole credentials that read team-a's master keys — or, with
// keyDeletionPolicy: Delete, have the operator delete them; or name a server of their own as Vault
// and collect the operator's ServiceAccount token. The operator's --kv-prefix-template (default
// kmsstack/{namespace}), its one-prefix-one-owner rule and --vault-addresses prevent all three; these
// tests run the real operator process against real Vault and check what Vault holds (and what an
// unlisted server receives), not only what status says.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resources, type KubeObject } from '../../../src/runtime/kube/resources.ts';
import { vaultObjectName } from '../../../src/vault/names.ts';
import { waitFor } from '../../env/process.ts';
import { conditionOf, readMarker, waitConverged, writeMarker, type Tracked } from '../../faults/checks.ts';
import type { OperatorProcess } from '../../faults/operator.ts';
import { getDeployment, startFaultStack, vaultDeployment } from '../../faults/stack.ts';
import { kvPrefixOf } from '../../support/kmsdeployment.ts';
import { enableOperatorKubernetesAuth, KUBERNETES_AUTH_ROLE } from './kubernetes-auth.ts';
import { ensureNamespace } from '../../support/kube.ts';

const victim: Tracked = { namespace: 'team-a', name: 'store' };
const victimPrefix = kvPrefixOf(victim.namespace, victim.name); // kmsstack/team-a/store

/** A stack with team-a's deployment converged and its marker key written; the operator uses `template`. */
async function tenants(template: string | undefined) {
  const stack = await startFaultStack();
  const auth = await enableOperatorKubernetesAuth(stack);
  await stack.prepareNamespace(victim.namespace);
  await ensureNamespace(stack.kube, 'team-b');
  const env: Record<string, string> = { ...auth.operatorEnv, ...(template ? { KMSSTACK_KV_PREFIX_TEMPLATE: template } : {}) };
  const operator: OperatorProcess = stack.startOperator({ leaseNamespace: 'team-a', leaseName: 'isolation', env });
  await operator.waitUntilReconciling();

  /** A Vault-mode KMSDeployment using the operator's own Kubernetes auth identity. */
  const withKubernetesAuth = (namespace: string, name: string, prefix: string, extra: Record<string, unknown> = {}): KubeObject => {
    const obj = vaultDeployment(stack, namespace, name);
    const spec = obj.spec as { vault: { auth: unknown; kv: { prefix: string } } } & Record<string, unknown>;
    spec.vault.auth = { kubernetes: { role: KUBERNETES_AUTH_ROLE } };
    spec.vault.kv.prefix = prefix;
    Object.assign(spec, extra);
    return obj;
  };
  await stack.kube.create(withKubernetesAuth(victim.namespace, victim.name, victimPrefix));
  await waitConverged(stack, [victim]);
  await writeMarker(stack, victim, 'team-a-master-key');

  return {
    stack,
    withKubernetesAuth,
    create: (namespace: string, name: string, prefix: string, extra: Record<string, unknown> = {}) => stack.kube.create(withKubernetesAuth(namespace, name, prefix, extra)),

    /** VaultConfigured once the operator has decided, one way or the other. */
    vaultCondition: (namespace: string, name: string) => waitFor(`${namespace}/${name} to be handled`, async () => {
      const condition = conditionOf(await getDeployment(stack, namespace, name), 'VaultConfigured');
      return condition?.status === 'True' || condition?.status === 'False' ? condition : undefined;
    }, 60_000, 200),

    /** Nothing was granted in Vault for namespace/name, and no credentials reached its namespace. */
    async assertNothingGranted(namespace: string, name: string): Promise<void> {
      const role = vaultObjectName(namespace, name);
      assert.equal((await stack.vault.request('GET', `sys/policies/acl/${role}`)).status, 404, `no policy ${role}`);
      assert.equal((await stack.vault.request('GET', `auth/approle/role/${role}`)).status, 404, `no AppRole role ${role}`);
      assert.equal(await stack.kube.get(resources.Secret, namespace, `${name}-kes-vault-approle`), undefined, 'no AppRole Secret');
    },

    /** VaultConfigured says PrefixInUse with a message matching `message`, and nothing was granted. */
    async assertPrefixRefused(namespace: string, name: string, message: RegExp): Promise<void> {
      const condition = await this.vaultCondition(namespace, name);
      assert.equal(condition.reason, 'PrefixInUse');
      assert.match(condition.message, message);
      await this.assertNothingGranted(namespace, name);
    },

    async deleteAndWait(namespace: string, name: string): Promise<void> {
      await stack.kube.delete(resources.KMSDeployment, namespace, name);
      await waitFor(`${name} to be deleted`, async () => ((await getDeployment(stack, namespace, name)) ? undefined : true), 60_000, 200);
    },

    async warningReasons(namespace: string, name: string): Promise<string[]> {
      const events = await stack.kube.list(resources.Event, namespace);
      return events.items.filter((e: KubeObject) => e.type === 'Warning' && (e.regarding as { name?: string } | undefined)?.name === name).map((e: KubeObject) => String(e.reason));
    },
  };
}

/** A Kubernetes-auth deployment whose spec.vault gets `vault` merged in. */
function vaultDeploymentWith(t: Awaited<ReturnType<typeof tenants>>, namespace: string, name: string, prefix: string, vault: Record<string, unknown>): KubeObject {
  const obj = t.withKubernetesAuth(namespace, name, prefix);
  Object.assign((obj.spec as { vault: Record<string, unknown> }).vault, vault);
  return obj;
}

describe('tenant isolation with the default --kv-prefix-template kmsstack/{namespace}', { timeout: 300_000 }, () => {
  let t: Awaited<ReturnType<typeof tenants>>;
  before(async () => {
    t = await tenants(undefined);
  });
  after(async () => {
    await t?.stack.stop();
  });

  it('an allowed prefix in team-b is configured (the control for the refusals below)', async () => {
    await t.create('team-b', 'own', kvPrefixOf('team-b', 'own'));
    const condition = await t.vaultCondition('team-b', 'own');
    assert.equal(condition.status, 'True', condition.message);
    assert.ok(await t.stack.kube.get(resources.Secret, 'team-b', 'own-kes-vault-approle'), 'team-b gets credentials for its own prefix');
  });

  it('naming team-a\'s prefix in team-b is refused, naming the field, and nothing is granted', async () => {
    await t.create('team-b', 'steal', victimPrefix);
    const condition = await t.vaultCondition('team-b', 'steal');
    assert.equal(condition.status, 'False');
    assert.equal(condition.reason, 'PrefixNotAllowed');
    assert.match(condition.message, /^spec\.vault\.kv\.prefix: "kmsstack\/team-a\/store" is outside "kmsstack\/team-b"/);
    await t.assertNothingGranted('team-b', 'steal');
    assert.ok((await t.warningReasons('team-b', 'steal')).includes('PrefixNotAllowed'), 'a Warning event tells the user');
    await t.deleteAndWait('team-b', 'steal');
  });

  it('deleting a team-b KMSDeployment with keyDeletionPolicy Delete leaves team-a\'s keys alone', async () => {
    await t.create('team-b', 'wipe', victimPrefix, { keyDeletionPolicy: 'Delete' });
    assert.equal((await t.vaultCondition('team-b', 'wipe')).reason, 'PrefixNotAllowed');
    await t.deleteAndWait('team-b', 'wipe');
    assert.ok((await t.warningReasons('team-b', 'wipe')).includes('KeysRetained'), 'the deletion says why the keys stay');
    assert.equal(await readMarker(t.stack, victim), 'team-a-master-key', 'team-a\'s key survives another namespace\'s deletion');
  });

  it('a Vault address the administrator did not list gets no request at all, so the operator\'s ServiceAccount token stays home', async () => {
    const seen: string[] = [];
    const impostor = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(503).end();
    });
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    try {
      const address = `http://127.0.0.1:${(impostor.address() as AddressInfo).port}`;
      const obj = vaultDeploymentWith(t, 'team-b', 'phish', kvPrefixOf('team-b', 'phish'), { address });
      await t.stack.kube.create(obj);
      const condition = await t.vaultCondition('team-b', 'phish');
      assert.equal(condition.reason, 'VaultAddressNotAllowed');
      assert.match(condition.message, new RegExp(`^spec\\.vault\\.address: "${address.replace(/[.]/g, '\\.')}" is not a Vault server this operator sends its own ServiceAccount token to`));
      await t.deleteAndWait('team-b', 'phish');
      assert.ok((await t.warningReasons('team-b', 'phish')).includes('CleanupSkipped'), 'the deletion says the Vault cleanup was skipped');
      assert.deepEqual(seen, [], 'the unlisted server received no request, neither while reconciling nor on deletion');
    } finally {
      impostor.close();
    }
  });

  it('within team-a, a second deployment on the same or an enclosing prefix is refused and its deletion keeps the keys', async () => {
    await t.create('team-a', 'twin', victimPrefix, { keyDeletionPolicy: 'Delete' });
    await t.create('team-a', 'parent', 'kmsstack/team-a', { keyDeletionPolicy: 'Delete' });
    await t.assertPrefixRefused('team-a', 'twin', /^spec\.vault\.kv\.prefix: "kv\/kmsstack\/team-a\/store" is already used by KMSDeployment team-a\/store/);
    await t.assertPrefixRefused('team-a', 'parent', /contains the prefix of KMSDeployment team-a\/store/);
    await t.deleteAndWait('team-a', 'twin');
    await t.deleteAndWait('team-a', 'parent');
    for (const name of ['twin', 'parent']) assert.ok((await t.warningReasons('team-a', name)).includes('KeysRetained'), `${name}'s deletion says why the keys stay`);
    assert.equal(await readMarker(t.stack, victim), 'team-a-master-key', 'the owner\'s key survives');
    assert.equal(conditionOf(await getDeployment(t.stack, victim.namespace, victim.name), 'VaultConfigured')?.status, 'True', 'the owner is untouched');
  });
});

describe('tenant isolation with --kv-prefix-template "*" (template off): one prefix, one owner', { timeout: 300_000 }, () => {
  let t: Awaited<ReturnType<typeof tenants>>;
  before(async () => {
    t = await tenants('*');
  });
  after(async () => {
    await t?.stack.stop();
  });

  it('another namespace may name any free prefix, but not one an older deployment uses', async () => {
    await t.create('team-b', 'free', 'elsewhere/team-b');
    assert.equal((await t.vaultCondition('team-b', 'free')).status, 'True', 'the template no longer applies');
    await t.create('team-b', 'steal', victimPrefix, { keyDeletionPolicy: 'Delete' });
    await t.assertPrefixRefused('team-b', 'steal', /is already used by KMSDeployment team-a\/store/);
    await t.deleteAndWait('team-b', 'steal');
    assert.equal(await readMarker(t.stack, victim), 'team-a-master-key', 'team-a\'s key survives');
  });
});
