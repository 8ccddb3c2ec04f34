// spec.vault.kesAuth and spec.vault.kesKubernetes: defaults and what validation refuses, with the field named.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyDefaults, validate, type KMSDeploymentSpec } from '../../../src/api/index.ts';

function spec(vault: Record<string, unknown> = {}, kes: Record<string, unknown> = {}): KMSDeploymentSpec {
  return {
    vault: { address: 'https://vault.vault.svc:8200', auth: { token: { secretRef: { name: 'vault-token' } } }, kv: { prefix: 'minio' }, ...vault },
    kes: { keys: [{ name: 'minio-key-1' }], ...kes },
  } as KMSDeploymentSpec;
}

test('kesAuth defaults to AppRole, and the Kubernetes login settings to mount kubernetes, audience vault, 1h tokens', () => {
  const defaulted = applyDefaults(spec());
  assert.equal(defaulted.vault?.kesAuth, 'AppRole');
  assert.deepEqual(defaulted.vault?.kesKubernetes, { mountPath: 'kubernetes', audience: 'vault', tokenExpiration: '1h' });
  assert.deepEqual(validate(spec({ kesAuth: 'Kubernetes' })), []);
});

test('Kubernetes login: a token lifetime outside 10m..24h, an unknown method, and a user ServiceAccount for KES are refused, each at its field', () => {
  const errors = (s: KMSDeploymentSpec) => validate(s).map((e) => `${e.path}: ${e.message}`);
  assert.deepEqual(errors(spec({ kesAuth: 'Kubernetes', kesKubernetes: { tokenExpiration: '5m' } })), ['spec.vault.kesKubernetes.tokenExpiration: must be between 10m and 24h']);
  assert.deepEqual(errors(spec({ kesKubernetes: { tokenExpiration: '25h' } })), ['spec.vault.kesKubernetes.tokenExpiration: must be between 10m and 24h']);
  assert.match(errors(spec({ kesAuth: 'Token' })).join('\n'), /^spec\.vault\.kesAuth: /);
  const forbidden = errors(spec({ kesAuth: 'Kubernetes' }, { serviceAccountName: 'mine' }));
  assert.equal(forbidden.length, 1);
  assert.match(forbidden[0] as string, /^spec\.kes\.serviceAccountName: must not be set when vault\.kesAuth is Kubernetes/);
  assert.deepEqual(errors(spec({}, { serviceAccountName: 'mine' })), [], 'with AppRole KES may run as the user\'s ServiceAccount');
});
