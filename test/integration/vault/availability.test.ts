// A Vault run as the guide runs it (file storage, TLS, init + unseal): TLS trust from the CA Secret,
// and how the step reports a stopped or sealed Vault and converges once it is back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VaultClient } from '../../../src/vault/client.ts';
import { health } from '../../../src/vault/operations.ts';
import { reconcileVault } from '../../../src/vault/reconcile.ts';
import type { VaultSpec } from '../../../src/vault/settings.ts';
import { suiteFixture } from '../../support/suite.ts';
import { settingsFor, startVaultSuiteStack } from './fixture.ts';

const NS = 'availability';

const stack = suiteFixture(() => startVaultSuiteStack(NS, { persistent: true }));

function run(name: string, overrides: Partial<VaultSpec> = {}) {
  const settings = settingsFor(stack.vault, NS, name, { tls: { caSecretRef: { name: 'vault-ca', key: 'ca.crt' } }, ...overrides });
  return reconcileVault(stack.deps, { settings, labels: {}, ownerReferences: [], now: new Date() });
}

test('TLS is verified with the CA from spec.vault.tls.caSecretRef', async () => {
  const ok = await run('tls');
  assert.equal(ok.condition.reason, 'Configured', ok.condition.message);

  const noCa = await run('tls', { tls: undefined });
  assert.equal(noCa.condition.reason, 'Unreachable');
  assert.match(noCa.condition.message, /TLS verification of the Vault server failed .*spec\.vault\.tls/);
});

test('VAULT_SKIP_VERIFY in the operator environment does not turn verification off', async () => {
  process.env.VAULT_SKIP_VERIFY = 'true';
  try {
    const client = new VaultClient({ address: stack.vault.address, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    await assert.rejects(health(client), { reason: 'Unreachable', message: /TLS verification/ });
  } finally {
    delete process.env.VAULT_SKIP_VERIFY;
  }
  const trusted = new VaultClient({ address: stack.vault.address, caPem: stack.vault.caPem });
  assert.equal((await health(trusted)).sealed, false);
});

test('spec.vault.tls.serverName is the name verified in the certificate', async () => {
  const right = await run('tls', { tls: { caSecretRef: { name: 'vault-ca', key: 'ca.crt' }, serverName: 'localhost' } });
  assert.equal(right.condition.reason, 'Configured', right.condition.message);
  const wrong = await run('tls', { tls: { caSecretRef: { name: 'vault-ca', key: 'ca.crt' }, serverName: 'vault.elsewhere.example' } });
  assert.equal(wrong.condition.reason, 'Unreachable');
  assert.match(wrong.condition.message, /TLS verification/);
});

test('a stopped Vault is Unreachable; the step converges once it is back', async () => {
  assert.equal((await run('outage')).condition.reason, 'Configured');
  await stack.vault.halt();
  try {
    const down = await run('outage');
    assert.equal(down.condition.status, 'False');
    assert.equal(down.condition.reason, 'Unreachable');
    assert.equal(down.failed, true);
    assert.match(down.condition.message, /ECONNREFUSED/);
  } finally {
    await stack.vault.start();
  }
  const back = await run('outage');
  assert.equal(back.condition.reason, 'Configured', back.condition.message);
  assert.deepEqual(back.changes, [], 'file storage kept everything');
});

test('a sealed Vault is reported as Sealed; the step converges after unseal', async () => {
  await stack.vault.seal();
  try {
    const sealed = await run('outage');
    assert.equal(sealed.condition.reason, 'Sealed', sealed.condition.message);
    assert.match(sealed.condition.message, /unseal/);
  } finally {
    await stack.vault.unseal();
  }
  assert.equal((await run('outage')).condition.reason, 'Configured');
});
