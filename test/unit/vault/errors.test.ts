import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyVaultFailure, redact, VaultRequestError } from '../../../src/vault/errors.ts';

const token = 'hvs.CAESIJ3xExampleTokenValue0123456789abcdef';
const secretId = '2f1c8d1e-7a52-4b0e-9b8c-5d6e7f8a9b0c';

function apiError(statusCode: number, errors: string[]) {
  return Object.assign(new Error(errors[0] ?? `Status ${statusCode}`), { response: { statusCode, body: { errors } } });
}

// What axios rejects with on a refused connection: the request config, token header included.
function networkError(code: string) {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:8200`), { code, config: { headers: { 'X-Vault-Token': token } } });
}

test('status codes map to reasons a user can act on', () => {
  const cases: [unknown, boolean, string][] = [
    [apiError(403, ['permission denied']), false, 'PermissionDenied'],
    [apiError(403, ['2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n']), false, 'AuthFailed'],
    [apiError(400, ['invalid role or secret ID']), true, 'AuthFailed'],
    [apiError(403, ['permission denied']), true, 'AuthFailed'],
    [apiError(503, ['Vault is sealed']), false, 'Sealed'],
    [apiError(503, ['OpenBao is sealed']), false, 'Sealed'],
    [apiError(500, ['internal error']), false, 'ServerError'],
    [apiError(502, []), false, 'ServerError'],
    [apiError(404, []), false, 'NotFound'],
    [apiError(400, ['missing client token']), false, 'InvalidRequest'],
    [apiError(307, []), true, 'RedirectRefused'],
    [apiError(301, []), false, 'RedirectRefused'],
    [networkError('ECONNREFUSED'), false, 'Unreachable'],
    [networkError('ECONNABORTED'), false, 'Unreachable'],
    [networkError('DEPTH_ZERO_SELF_SIGNED_CERT'), false, 'Unreachable'],
    [networkError('ERR_TLS_CERT_ALTNAME_INVALID'), false, 'Unreachable'],
  ];
  for (const [err, login, reason] of cases) {
    const failure = classifyVaultFailure(err, { operation: 'op', login });
    assert.equal(failure.reason, reason, `${(err as Error).message} login=${login}`);
    assert.ok(failure instanceof VaultRequestError);
  }
});

test('only network trouble and non-seal 5xx are retryable', () => {
  assert.equal(classifyVaultFailure(networkError('ECONNRESET'), { operation: 'op' }).retryable, true);
  assert.equal(classifyVaultFailure(apiError(500, ['x']), { operation: 'op' }).retryable, true);
  assert.equal(classifyVaultFailure(apiError(503, ['Vault is sealed']), { operation: 'op' }).retryable, false);
  for (const status of [400, 403, 404, 429]) {
    assert.equal(classifyVaultFailure(apiError(status, ['x']), { operation: 'op' }).retryable, false, String(status));
  }
});

test('TLS failures point at spec.vault.tls', () => {
  const failure = classifyVaultFailure(networkError('SELF_SIGNED_CERT_IN_CHAIN'), { operation: 'read mount kv' });
  assert.match(failure.message, /^read mount kv: TLS verification .*spec\.vault\.tls/);
});

test('no token, secret-id or JWT ever reaches the message', () => {
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJl';
  const leaky = [
    apiError(400, [`invalid secret id ${secretId}`]),
    apiError(500, [`token ${token} broke`]),
    apiError(403, [`jwt ${jwt} rejected`]),
    Object.assign(new Error(`weird failure with ${token} and ${secretId}`), { config: { headers: { 'X-Vault-Token': token } } }),
  ];
  for (const err of leaky) {
    const failure = classifyVaultFailure(err, { operation: 'login', login: true, secrets: [secretId, token] });
    const everything = `${failure.message} ${JSON.stringify(failure)} ${String(failure.stack)}`;
    for (const secret of [token, secretId, jwt]) assert.ok(!everything.includes(secret), `${secret} leaked in ${failure.message}`);
  }
  assert.equal(redact(`a ${token} b`), 'a [redacted] b');
  assert.equal(redact(`legacy s.abcdefghijklmnopqrstuvwx ok`), 'legacy [redacted] ok');
});

test('an already classified failure passes through unchanged', () => {
  const failure = new VaultRequestError('Sealed', 'op', 'op: sealed', 503);
  assert.equal(classifyVaultFailure(failure, { operation: 'other' }), failure);
});
