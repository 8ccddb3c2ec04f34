// Secret-id rotation with short TTLs against a real Vault: the new secret-id is in the Secret before
// the old one expires, the old one is destroyed once KES has rolled, and never more than two are live.
// There is no controller-manager, so the test plays the Deployment controller: it sets the KES
// Deployment's pod template and status the way a finished rollout would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeObject } from '../../../src/runtime/kube/resources.ts';
import { reconcileVault } from '../../../src/vault/reconcile.ts';
import { APPROLE_ANNOTATIONS, KES_APPROLE_CHECKSUM_ANNOTATION } from '../../../src/vault/names.ts';
import { suiteFixture } from '../../support/suite.ts';
import { KesLikeClient, readAppRoleCredentials, settingsFor, startVaultSuiteStack } from './fixture.ts';

const NS = 'rotation';
const NAME = 'tenant-r';
const ROLE = `kmsstack_default_${NS}_${NAME}`;

const stack = suiteFixture(() => startVaultSuiteStack(NS));

/** Accessors of the role whose secret-id has not expired, as Vault itself reports them. */
async function liveAccessors(): Promise<string[]> {
  const list = await stack.vault.request('GET', `auth/approle/role/${ROLE}/secret-id?list=true`);
  const live: string[] = [];
  for (const accessor of ((list.body?.['data'] as { keys?: string[] } | undefined)?.keys ?? [])) {
    const lookup = await stack.vault.request('POST', `auth/approle/role/${ROLE}/secret-id-accessor/lookup`, { secret_id_accessor: accessor });
    const expiration = (lookup.body?.['data'] as { expiration_time?: string } | undefined)?.expiration_time;
    if (lookup.status === 200 && expiration && new Date(expiration).getTime() > Date.now()) live.push(accessor);
  }
  return live;
}

/** Plays the KES step: the KES Deployment's pod template carries `checksum` (the pods have not rolled yet). */
async function pendingRollout(checksum: string): Promise<KubeObject> {
  const labels = { 'app.kubernetes.io/name': 'kes', 'app.kubernetes.io/instance': NAME };
  return stack.kube.apply({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `${NAME}-kes`, namespace: NS },
    spec: {
      replicas: 1, selector: { matchLabels: labels },
      template: { metadata: { labels, annotations: { [KES_APPROLE_CHECKSUM_ANNOTATION]: checksum } }, spec: { containers: [{ name: 'kes', image: 'kes:test' }] } },
    },
  });
}

/** Plays a finished KES rollout onto the pod template carrying `checksum`. */
async function rollKes(checksum: string): Promise<void> {
  const deployment = await pendingRollout(checksum);
  await stack.kube.apply({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `${NAME}-kes`, namespace: NS },
    status: { observedGeneration: deployment.metadata.generation, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 },
  }, { subresource: 'status' });
}

test('secret-ids rotate before expiry, the old one is destroyed after KES rolls, never more than two live', async () => {
  const settings = settingsFor(stack.vault, NS, NAME, { appRole: { secretIDTTL: '8s', secretIDRenewBefore: '5s', tokenTTL: '5s', tokenMaxTTL: '10s' } });
  const run = () => reconcileVault(stack.deps, { settings, labels: {}, ownerReferences: [], now: new Date() });

  const first = await run();
  assert.equal(first.condition.reason, 'Configured', first.condition.message);
  assert.ok(first.requeueAfterMs !== undefined && first.requeueAfterMs <= 3500, `rotation requeue ${first.requeueAfterMs}`);
  await rollKes(first.appRoleChecksum as string);

  const seen: { accessor: string; expiresAt: number }[] = [];
  let destroyedAfterRoll = 0;
  const deadline = Date.now() + 25_000;
  while (Date.now() < deadline && destroyedAfterRoll < 2) {
    const outcome = await run();
    assert.equal(outcome.condition.status, 'True', outcome.condition.message);
    const { roleId, secretId, secret } = await readAppRoleCredentials(stack.kube, NS, NAME);
    const accessor = secret.metadata.annotations?.[APPROLE_ANNOTATIONS.accessor] as string;
    const expiresAt = Date.parse(secret.metadata.annotations?.[APPROLE_ANNOTATIONS.expiresAt] as string);
    const live = await liveAccessors();
    assert.ok(live.length <= 2, `live secret-ids: ${live.join(', ')}`);
    assert.ok(live.includes(accessor), 'the Secret holds a live secret-id');
    await KesLikeClient.login(stack.vault, roleId, secretId, 'kv', 'v1'); // the Secret's credentials work

    const last = seen.at(-1);
    if (!last || last.accessor !== accessor) {
      if (last) {
        assert.ok(Date.now() < last.expiresAt, 'the new secret-id arrived before the old one expired');
        assert.ok(live.includes(last.accessor), 'the old secret-id stays while KES has not rolled');
        assert.equal(secret.metadata.annotations?.[APPROLE_ANNOTATIONS.previousAccessor], last.accessor);
        await pendingRollout(outcome.appRoleChecksum as string);
        const waiting = await run();
        assert.ok((await liveAccessors()).includes(last.accessor), 'not destroyed during the rollout');
        assert.match(waiting.condition.message, /stays until KES has rolled/);
        await rollKes(outcome.appRoleChecksum as string);
        const rolled = await run();
        assert.ok(rolled.changes.some((c) => c.includes(`destroyed secret-id ${last.accessor}`)), rolled.changes.join('\n'));
        assert.ok(!(await liveAccessors()).includes(last.accessor), 'the old secret-id is destroyed after the roll');
        const after = await readAppRoleCredentials(stack.kube, NS, NAME);
        assert.equal(after.secret.metadata.annotations?.[APPROLE_ANNOTATIONS.previousAccessor], '', 'cleared: no rotation in progress');
        destroyedAfterRoll++;
      }
      seen.push({ accessor, expiresAt });
    }
    await sleep(500);
  }
  assert.equal(destroyedAfterRoll, 2, `rotations observed: ${seen.length - 1}`);
});
