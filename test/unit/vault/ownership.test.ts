import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkInstanceName, legacyVaultObjectName, vaultObjectName } from '../../../src/vault/names.ts';
import { isLegacyPolicyOf, legacyObjectsPending, ownerRecord, recordedOwner } from '../../../src/vault/ownership.ts';
import { renderKesPolicy } from '../../../src/vault/policy.ts';
import { resolveVaultSettings, type VaultSpec } from '../../../src/vault/settings.ts';

const spec = (prefix: string): VaultSpec => ({ address: 'https://vault:8200', auth: { kubernetes: { role: 'r' } }, kv: { prefix } });

test('object names are injective where the 0.1 names collided', () => {
  assert.equal(legacyVaultObjectName('team', 'x-prod'), legacyVaultObjectName('team-x', 'prod'), 'the 0.1 collision this fixes');
  assert.notEqual(vaultObjectName('team', 'x-prod'), vaultObjectName('team-x', 'prod'));
  assert.equal(vaultObjectName('team', 'x-prod'), 'kmsstack_default_team_x-prod');
  assert.notEqual(vaultObjectName('payments', 'kms', 'staging'), vaultObjectName('payments', 'kms', 'prod'));
  // Every part is free of "_", so splitting on it gives the parts back.
  for (const [ns, name, instance] of [['team', 'x-prod', 'default'], ['a-b', 'c', 'd-e'], ['default', 'default', 'default']] as const) {
    assert.deepEqual(vaultObjectName(ns, name, instance).split('_'), ['kmsstack', instance, ns, name]);
  }
  assert.throws(() => checkInstanceName('a_b'), /--instance-name/);
});

test('the owner record in the KES policy names instance, deployment and uid', () => {
  const settings = resolveVaultSettings(spec('kmsstack/team/a'), { namespace: 'team', name: 'a', uid: 'u-1' }, 'prod');
  const owner = ownerRecord(settings);
  assert.equal(owner, 'kmsstack-operator instance=prod deployment=team/a uid=u-1');
  const text = renderKesPolicy({ deployment: settings.deployment, owner, kvMountPath: 'kv', kvVersion: 'v1', prefix: 'kmsstack/team/a', allowKeyDeletion: false });
  assert.equal(recordedOwner(text), owner);
  assert.equal(recordedOwner(renderKesPolicy({ deployment: settings.deployment, kvMountPath: 'kv', kvVersion: 'v1', prefix: 'kmsstack/team/a', allowKeyDeletion: false })), undefined);
});

test('a 0.1 policy is provably a deployment\'s only if its title and every path are that deployment\'s', () => {
  const victim = resolveVaultSettings(spec('kmsstack/team/x-prod'), { namespace: 'team', name: 'x-prod' });
  const attacker = resolveVaultSettings(spec('kmsstack/team-x/prod'), { namespace: 'team-x', name: 'prod' });
  assert.equal(victim.legacyObjectName, attacker.legacyObjectName);
  const victimPolicy = renderKesPolicy({ deployment: victim.deployment, kvMountPath: 'kv', kvVersion: 'v1', prefix: victim.kv.prefix, allowKeyDeletion: false });
  assert.equal(isLegacyPolicyOf(victimPolicy, victim), true);
  assert.equal(isLegacyPolicyOf(victimPolicy, attacker), false);
  const widened = victimPolicy.replace('kv/kmsstack/team/x-prod/*', 'kv/kmsstack/*');
  assert.equal(isLegacyPolicyOf(widened, victim), false, 'a path outside its prefix');
  const withOwner = renderKesPolicy({ deployment: victim.deployment, owner: ownerRecord(victim), kvMountPath: 'kv', kvVersion: 'v1', prefix: victim.kv.prefix, allowKeyDeletion: false });
  assert.equal(isLegacyPolicyOf(withOwner, victim), false, 'a current policy is not a 0.1 one');
  assert.equal(legacyObjectsPending(victim, { policy: victim.legacyObjectName }), true);
  assert.equal(legacyObjectsPending(victim, { policy: victim.objectName }), false);
  assert.equal(legacyObjectsPending(victim, undefined), false);
});
