// Adoption of foreign objects (issue 17, hole 6). A user who may create KMSDeployments picks a name so
// that one of its children's names (<name>-ca, <name>-kes-config...) is an existing Secret of someone
// else in the namespace. Server-side apply with force would overwrite it (and put the operator's
// ownerReference on it, so deleting the KMSDeployment would garbage-collect it). The operator must
// leave an object it does not control untouched, byte for byte, and say so: ChildConflict on the
// condition of the step that owns the child, and a Warning event. These tests run the operator process
// against the real API server; the Secrets are read back from the API server, not from the operator.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { kesNames } from '../../../src/workload/names.ts';
import { pkiSecretNames } from '../../../src/pki/names.ts';
import { resources, type KubeObject } from '../../../src/runtime/kube/resources.ts';
import { waitFor } from '../../env/process.ts';
import { conditionOf, waitConverged } from '../../faults/checks.ts';
import type { OperatorProcess } from '../../faults/operator.ts';
import { annotate, getDeployment, startFaultStack, vaultDeployment } from '../../faults/stack.ts';
import { suiteFixture } from '../../support/suite.ts';

const namespace = 'shared-ns';
type Secret = KubeObject & { data?: Record<string, string> };

/** A Secret of another application: no operator labels, no owner. */
function foreignSecret(name: string, extra: Partial<KubeObject['metadata']> = {}): Secret {
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name, namespace, labels: { app: 'payments' }, ...extra },
    data: { 'ca.crt': Buffer.from('the payments team\'s CA, not the operator\'s').toString('base64'), 'ca.key': Buffer.from('payments CA key').toString('base64') },
  };
}

describe('a child name taken by a foreign object', { timeout: 300_000 }, () => {
  const stack = suiteFixture(() => startFaultStack({ namespace }));
  let operator: OperatorProcess;
  before(async () => {
    operator = await stack.startReconcilingOperator({ leaseNamespace: namespace, env: { KMSSTACK_VAULT_ADDRESSES: stack.vault.address } });
  });

  const condition = (name: string, type: string) => waitFor(`${name}'s ${type} to be ChildConflict`, async () => {
    const c = conditionOf(await getDeployment(stack, namespace, name), type);
    return c?.reason === 'ChildConflict' ? c : undefined;
  }, 60_000, 200);

  const warnings = async (name: string) => (await stack.kube.list(resources.Event, namespace)).items
    .filter((e: KubeObject) => e.type === 'Warning' && (e.regarding as { name?: string } | undefined)?.name === name);

  it('leaves a foreign <name>-ca Secret byte for byte as it was, and reports ChildConflict', async () => {
    const name = 'payments';
    const created = await stack.kube.create<Secret>(foreignSecret(pkiSecretNames(name).ca));
    await stack.kube.create(vaultDeployment(stack, namespace, name));
    const c = await condition(name, 'CertificatesReady');
    assert.equal(c.status, 'False');
    assert.match(c.message, /not owned by it, so the operator leaves them untouched: Secret payments-ca \(/);
    assert.doesNotMatch(c.message, /payments team|CA key/, 'the message names the object, never its contents');
    const events = await waitFor('a ChildConflict warning', async () => {
      const found = (await warnings(name)).filter((e) => e.reason === 'ChildConflict');
      return found.length > 0 ? found : undefined;
    }, 30_000, 200);
    assert.match(String(events[0]?.note), /Secret payments-ca/);

    await annotate(stack, namespace, name, { 'example.com/poke': '1' }); // one more reconcile for good measure
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const now = await stack.kube.get<Secret>(resources.Secret, namespace, pkiSecretNames(name).ca);
    assert.equal(now?.metadata.resourceVersion, created.metadata.resourceVersion, 'never written');
    assert.deepEqual(now?.data, created.data);
    assert.deepEqual(now?.metadata.labels, { app: 'payments' });
    assert.equal(now?.metadata.ownerReferences, undefined, 'no ownerReference was added (a deletion would have garbage-collected it)');
    const leaf = pkiSecretNames(name).leaves.kesServer;
    assert.equal(await stack.kube.get(resources.Secret, namespace, leaf), undefined, `no ${leaf} issued from a CA that could not be stored`);
    operator.assertAlive('after the conflict');
  });

  it('refuses a Secret that carries the operator\'s labels but another owner, too', async () => {
    const name = 'billing';
    const kmsd = await stack.kube.create(vaultDeployment(stack, namespace, name));
    await waitConverged(stack, [{ namespace, name }]);
    // A look-alike of the KES config Secret, labelled like the operator's, owned by another object.
    const configName = kesNames('ledger').configSecret;
    const forged = foreignSecret(configName, {
      labels: { 'app.kubernetes.io/managed-by': 'kmsstack-operator', 'app.kubernetes.io/instance': 'ledger', 'app.kubernetes.io/part-of': 'kmsstack' },
      ownerReferences: [{ apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment', name, uid: kmsd.metadata.uid as string, controller: true }],
    });
    const created = await stack.kube.create<Secret>(forged);
    await stack.kube.create(vaultDeployment(stack, namespace, 'ledger'));
    const c = await condition('ledger', 'KESAvailable');
    assert.match(c.message, new RegExp(`Secret ${configName}`));
    assert.equal(conditionOf(await getDeployment(stack, namespace, 'ledger'), 'CertificatesReady')?.status, 'True', 'the steps before it ran');
    const now = await stack.kube.get<Secret>(resources.Secret, namespace, configName);
    assert.equal(now?.metadata.resourceVersion, created.metadata.resourceVersion);
    assert.deepEqual(now?.data, created.data);
  });

  it('takes the name once the foreign object is gone', async () => {
    await stack.kube.delete(resources.Secret, namespace, pkiSecretNames('payments').ca);
    await annotate(stack, namespace, 'payments', { 'example.com/poke': '2' });
    await waitConverged(stack, [{ namespace, name: 'payments' }]);
  });
});
