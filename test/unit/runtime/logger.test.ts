import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, isSecretKey, redactSecrets, REDACTED } from '../../../src/runtime/logger.ts';

function capture(level: 'info' | 'debug' = 'debug') {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      callback();
    },
  });
  const logger = createLogger({ level, destination });
  return { logger, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n';
const SECRET_VALUES = ['s3cr3t-data', 'hvs.CAESIJ3x0Y1zZ9aQ7-SECRET-TOKEN', 'a1b2c3-secret-id', 'hunter2', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', 'sa-jwt-token-xyz', 'minio-root-pw'];

describe('log redaction', () => {
  it('redacts secret-bearing fields at any depth, in messages, errors and bindings', () => {
    const { logger, lines, records } = capture();
    const child = logger.child({ key: 'ns/a', reconcileId: 'r1', token: 'sa-jwt-token-xyz' });
    child.info({
      secret: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'a-ca' }, data: { 'tls.key': 's3cr3t-data' }, stringData: { x: 'hunter2' } },
      vault: { auth: { client_token: 'hvs.CAESIJ3x0Y1zZ9aQ7-SECRET-TOKEN' }, secret_id: 'a1b2c3-secret-id', secretId: 'a1b2c3-secret-id' },
      request: { headers: { Authorization: 'Bearer sa-jwt-token-xyz', 'X-Vault-Token': 'hvs.CAESIJ3x0Y1zZ9aQ7-SECRET-TOKEN' } },
      pem: PEM,
      container: { env: [{ name: 'MINIO_ROOT_USER', value: 'admin' }, { name: 'MINIO_ROOT_PASSWORD', value: 'minio-root-pw' }] },
      nested: [[{ password: 'hunter2' }], { privateKey: PEM }],
    }, 'applied with header Authorization: Bearer sa-jwt-token-xyz');
    child.error({ err: Object.assign(new Error(`login failed for token hvs.CAESIJ3x0Y1zZ9aQ7-SECRET-TOKEN`), { secretId: 'a1b2c3-secret-id' }) }, 'vault login');
    const text = lines.join('\n');
    for (const secret of SECRET_VALUES) assert.ok(!text.includes(secret), `"${secret}" leaked into: ${text}`);
    const [first, second] = records();
    assert.equal(first?.key, 'ns/a');
    assert.equal(first?.reconcileId, 'r1');
    assert.equal(first?.token, REDACTED);
    assert.equal((first?.container as { env: Array<{ value: string }> }).env[0]?.value, 'admin', 'non-secret env values stay');
    assert.equal(((first?.secret as { metadata: { name: string } }).metadata).name, 'a-ca', 'names stay');
    assert.match(String(first?.msg), /Bearer \[REDACTED\]/);
    assert.match(String((second?.err as { message: string }).message), /login failed for token \[REDACTED\]/);
    assert.equal((second?.err as { type: string }).type, 'Error', 'errors are still serialised as errors');
  });

  it('keeps durations, references and names of secrets readable', () => {
    for (const key of ['tokenTTL', 'secretIDTTL', 'secretRef', 'caSecretRef', 'tokenSecretName', 'secretIDExpiresAt']) assert.equal(isSecretKey(key), false, key);
    for (const key of ['token', 'secret_id', 'secretId', 'password', 'privateKey', 'tls.key', 'authorization', 'x-vault-token', 'data', 'stringData', 'clientToken']) {
      assert.equal(isSecretKey(key), true, key);
    }
    const spec = { appRole: { tokenTTL: '5m' }, auth: { token: { secretRef: { name: 'vault-token', key: 'token' } } } };
    assert.deepEqual(redactSecrets(spec), { appRole: { tokenTTL: '5m' }, auth: { token: REDACTED } });
  });

  it('survives cycles and does not mutate its input', () => {
    const input: Record<string, unknown> = { password: 'p', inner: { ok: 1 } };
    input.self = input;
    const out = redactSecrets(input) as Record<string, unknown>;
    assert.equal(out.self, '[Circular]');
    assert.equal(input.password, 'p');
  });

  it('honours the level', () => {
    const { logger, lines } = capture('info');
    logger.debug('hidden');
    logger.info('shown');
    assert.equal(lines.length, 1);
    assert.equal(JSON.parse(lines[0] as string).level, 'info');
  });
});

describe('one redaction and one jitter', () => {
  it('redactString covers Vault tokens, JWTs and bearer credentials, with the caller\'s marker', async () => {
    const { redactString } = await import('../../../src/runtime/logger.ts');
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    assert.equal(redactString(`token ${jwt} end`), 'token [REDACTED] end');
    assert.equal(redactString('legacy r.abcdefghijklmnopqrstuvwx ok', '[redacted]'), 'legacy [redacted] ok');
    assert.equal(redactString('Authorization: Bearer abc.def'), 'Authorization: Bearer [REDACTED]');
  });

  it('jitter adds up to factor × ms, as client-go\'s wait.Jitter', async () => {
    const { jitter } = await import('../../../src/runtime/clock.ts');
    assert.equal(jitter(1000, 1.2, 0), 1000);
    assert.equal(jitter(1000, 1.2, 0.5), 1600);
    for (let i = 0; i < 100; i++) {
      const value = jitter(1000, 1.2);
      assert.ok(value >= 1000 && value < 2200, `${value}`);
    }
  });
});
