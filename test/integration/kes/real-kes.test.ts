// The keys and verify steps against the real KES (2025-03-12) on a real Vault, KV v1 and v2: KES runs
// from the config the operator renders, with the Vault policy and AppRole the operator renders. This
// is where the stand-in of test/unit/kes is checked against the program it stands in for. Skipped,
// with one line, when no kes program is installed (test/env/programs.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { keysStep } from '../../../src/controllers/kmsdeployment/steps/keys.ts';
import { verifyStep } from '../../../src/controllers/kmsdeployment/steps/verify.ts';
import { KesClient } from '../../../src/kes/client.ts';
import type { KesError } from '../../../src/kes/errors.ts';
import { ACCEPT_NEW_KEY_ANNOTATION } from '../../../src/kes/key-records.ts';
import { startKesOnVault, type KesOnVault } from '../../env/kes-on-vault.ts';
import { missingProgram } from '../../env/programs.ts';
import { World, assertEmptyListingFails, putKesClientIdentities } from '../../unit/controllers/kmsdeployment/step-harness.ts';

const skip = missingProgram('kes');
// KES keeps keys it fetched in memory; short expiries let a test see what Vault holds now.
const CACHE_EXPIRY = { any: '1s', unused: '1s' };
const AFTER_CACHE_MS = 2_500;
const KEYS = ['minio-key-1', 'minio-key-2'];

describe('the real KES', { skip }, () => {
  for (const kvVersion of ['v1', 'v2'] as const) {
    describe(`keys and verify steps with the real KES on Vault KV ${kvVersion}`, () => {
      let env: KesOnVault;
      let spec: ReturnType<KesOnVault['specFor']>;
      const world = new World();
      const endpoint = () => env.kes.url;
      const client = (pem: { cert: string; key: string }) => new KesClient({ endpoint: env.kes.url, clientCert: pem.cert, clientKey: pem.key, ca: env.ca.cert });

      before(async () => {
        env = await startKesOnVault({ kvVersion, keys: KEYS, keyName: 'minio-key-1', cacheExpiry: CACHE_EXPIRY });
        spec = env.specFor(KEYS, 'minio-key-1');
        putKesClientIdentities(world, env);
      });
      after(async () => {
        await env?.stop();
      });

      async function reconcile(annotations?: Record<string, string>) {
        const context = world.context(spec);
        const object = { ...context.object, metadata: { ...context.object.metadata, ...(annotations ? { annotations } : {}) } };
        const result = await keysStep({ endpoint }).run({ ...context, object });
        for (const declared of context.children.all()) world.put('Secret', declared);
        return result;
      }

      it('answers a listing of the empty prefix with 502 "failed to list keys", as the stand-in does', async () => {
        await assertEmptyListingFails(client(env.operatorClient));
      });

      it('creates the keys of a fresh prefix and verifies the chain', async () => {
        assert.deepEqual(await reconcile(), { status: 'True', reason: 'KeysPresent', message: 'master keys present and verified by their canaries: minio-key-1, minio-key-2' });
        for (const key of KEYS) assert.equal((await env.vault.request('GET', env.entryPath(key))).status, 200, `${key} is in Vault`);
        assert.equal((await verifyStep({ endpoint }).run(world.context(spec))).reason, 'RoundTripSucceeded');
        assert.equal((await reconcile()).status, 'True', 'a second reconcile only checks the canaries');
      });

      it('reports a key deleted in Vault as KeyMissing and sends no create to Vault', async () => {
        await env.vault.enableAudit();
        const deleted = await env.vault.request('DELETE', env.entryPath('minio-key-1', 'metadata'));
        assert.ok(deleted.status < 300, `deleted: HTTP ${deleted.status}`);
        await sleep(AFTER_CACHE_MS);
        const before = env.vault.auditedWrites().length;
        const result = await reconcile();
        assert.equal(result.reason, 'KeyMissing');
        const writes = env.vault.auditedWrites().slice(before).filter((entry) => entry.path.includes('minio-key-1'));
        assert.deepEqual(writes, [], 'no write reached the key');
        assert.equal((await env.vault.request('GET', env.entryPath('minio-key-1'))).status, 404);
        // MinIO's identity may not create it either (MinIO would, at start-up).
        const minio = client(env.minioClient);
        try {
          await assert.rejects(minio.createKey('minio-key-1'), (err: KesError) => err.reason === 'PolicyDenied');
        } finally {
          minio.close();
        }
      });

      it('creates a new key only when a person accepts the loss', async () => {
        const accepted = await reconcile({ [ACCEPT_NEW_KEY_ANNOTATION]: 'minio-key-1@2026-01-01T00:00:00.000Z' });
        assert.equal(accepted.status, 'True');
        assert.equal((await env.vault.request('GET', env.entryPath('minio-key-1'))).status, 200);
      });

      it('reports a key whose material was replaced in Vault as KeyReplaced, in KeysReady and EncryptionVerified', async () => {
        const other = await env.vault.request('GET', env.entryPath('minio-key-2'));
        const data = (kvVersion === 'v1' ? other.body?.['data'] : (other.body?.['data'] as { data: unknown }).data) as Record<string, string>;
        const material = data['minio-key-2'];
        assert.ok(material, 'KES stores the key under its own name');
        await env.vault.request('DELETE', env.entryPath('minio-key-1', 'metadata'));
        const body = kvVersion === 'v1' ? { 'minio-key-1': material } : { data: { 'minio-key-1': material } };
        assert.ok((await env.vault.request('POST', env.entryPath('minio-key-1'), body)).status < 300);
        await sleep(AFTER_CACHE_MS);
        assert.equal((await reconcile()).reason, 'KeyReplaced');
        assert.equal((await verifyStep({ endpoint }).run(world.context(spec))).reason, 'KeyReplaced');
      });
    });
  }
});
