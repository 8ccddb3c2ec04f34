// The keys and verify steps against the real KES (2025-03-12) on a real Vault, KV v1 and v2: KES runs
// from the config the operator renders, with the Vault policy and AppRole the operator renders. This
// is where the stand-in of test/unit/kes is checked against the program it stands in for. Skipped,
// with one line, when no kes program is installed (test/env/programs.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { applyDefaults, type KMSDeploymentSpec } from '../../../src/api/index.ts';
import { keysStep } from '../../../src/controllers/kmsdeployment/steps/keys.ts';
import { verifyStep } from '../../../src/controllers/kmsdeployment/steps/verify.ts';
import { KesClient } from '../../../src/kes/client.ts';
import { buildKesConfig, VAULT_STATUS_PING } from '../../../src/kes/config.ts';
import type { KesError } from '../../../src/kes/errors.ts';
import { ACCEPT_NEW_KEY_ANNOTATION } from '../../../src/kes/key-records.ts';
import { KES_APPROLE_ENV } from '../../../src/kes/names.ts';
import { renderKesPolicy } from '../../../src/vault/policy.ts';
import { startKes, type TestKes } from '../../env/kes.ts';
import { missingProgram } from '../../env/programs.ts';
import { startVault, type TestVault } from '../../env/vault.ts';
import { World, tlsSecret } from '../../unit/kes/step-harness.ts';
import { identityOf, issue, makeCa, type Pem } from '../../unit/kes/tls-fixture.ts';

const skip = missingProgram('kes');

// KES keeps keys it fetched in memory; short expiries let a test see what Vault holds now.
const CACHE_EXPIRY = { any: '1s', unused: '1s' };
const AFTER_CACHE_MS = 2_500;
const ref = { name: 'tenant-a', namespace: 'storage' };

describe('the real KES', { skip }, () => {
  for (const kvVersion of ['v1', 'v2'] as const) {
    describe(`keys and verify steps with the real KES on Vault KV ${kvVersion}`, () => {
      const mount = kvVersion === 'v1' ? 'kv' : 'kv2';
      const prefix = `kmsstack/storage/${kvVersion}`;
      const entryPath = (key: string, part: 'data' | 'metadata' = 'data') => (kvVersion === 'v1' ? `${mount}/${prefix}/${key}` : `${mount}/${part}/${prefix}/${key}`);
      let vault: TestVault;
      let kes: TestKes;
      let ca: Awaited<ReturnType<typeof makeCa>>;
      let minioClient: Pem;
      let operatorClient: Pem;
      let spec: ReturnType<typeof applyDefaults>;
      const world = new World();
      const endpoint = () => kes.url;

      before(async () => {
        ca = await makeCa();
        const kesServer = await issue(ca, 'tenant-a-kes', 'server');
        minioClient = await issue(ca, 'tenant-a-minio', 'client');
        operatorClient = await issue(ca, 'kmsstack-operator', 'client');
        world.put('Secret', tlsSecret('tenant-a-minio-kes-identity', minioClient, ca.cert));
        world.put('Secret', tlsSecret('tenant-a-operator-kes-identity', operatorClient, ca.cert));

        vault = await startVault();
        await vault.request('POST', `sys/mounts/${mount}`, { type: 'kv', options: { version: kvVersion === 'v1' ? '1' : '2' } });
        await vault.request('POST', 'sys/auth/approle', { type: 'approle' });
        await vault.writePolicy('kes-tenant-a', renderKesPolicy({ deployment: ref, kvMountPath: mount, kvVersion, prefix }));
        await vault.request('POST', 'auth/approle/role/kes-tenant-a', { token_policies: ['kes-tenant-a'], token_no_default_policy: true, token_ttl: '5m' });
        const roleId = (await vault.request('GET', 'auth/approle/role/kes-tenant-a/role-id')).body?.['data'] as { role_id: string };
        const secretId = (await vault.request('POST', 'auth/approle/role/kes-tenant-a/secret-id')).body?.['data'] as { secret_id: string };

        spec = applyDefaults({
          mode: 'Vault',
          vault: { address: vault.address, auth: { kubernetes: { role: 'kmsstack' } }, kv: { mountPath: mount, version: kvVersion, prefix } },
          kes: { keys: [{ name: 'minio-key-1' }, { name: 'minio-key-2' }], cache: { expiry: CACHE_EXPIRY } },
          minio: { keyName: 'minio-key-1' },
        } as KMSDeploymentSpec);
        const config = buildKesConfig({ deployment: ref, spec, identities: { minio: identityOf(minioClient.cert), operator: identityOf(operatorClient.cert) } });
        assert.equal(config.keystore.vault.status.ping, VAULT_STATUS_PING);
        kes = await startKes({ config, tls: kesServer, ca: ca.cert, env: { [KES_APPROLE_ENV.roleId]: roleId.role_id, [KES_APPROLE_ENV.secretId]: secretId.secret_id } });
      });
      after(async () => {
        await kes?.stop();
        await vault?.stop();
      });

      async function reconcile(annotations?: Record<string, string>) {
        const context = world.context(spec);
        const object = { ...context.object, metadata: { ...context.object.metadata, ...(annotations ? { annotations } : {}) } };
        const result = await keysStep({ endpoint }).run({ ...context, object });
        for (const declared of context.children.all()) world.put('Secret', declared);
        return result;
      }

      it('answers a listing of the empty prefix with 502 "failed to list keys", as the stand-in does', async () => {
        const client = new KesClient({ endpoint: kes.url, clientCert: operatorClient.cert, clientKey: operatorClient.key, ca: ca.cert });
        try {
          await assert.rejects(client.listKeys(), (err: KesError) => err.reason === 'KeystoreError' && err.status === 502 && /failed to list keys\)$/.test(err.message));
        } finally {
          client.close();
        }
      });

      it('creates the keys of a fresh prefix and verifies the chain', async () => {
        assert.deepEqual(await reconcile(), { status: 'True', reason: 'KeysPresent', message: 'master keys present and verified by their canaries: minio-key-1, minio-key-2' });
        for (const key of ['minio-key-1', 'minio-key-2']) assert.equal((await vault.request('GET', entryPath(key))).status, 200, `${key} is in Vault`);
        assert.equal((await verifyStep({ endpoint }).run(world.context(spec))).reason, 'RoundTripSucceeded');
        assert.equal((await reconcile()).status, 'True', 'a second reconcile only checks the canaries');
      });

      it('reports a key deleted in Vault as KeyMissing and sends no create to Vault', async () => {
        await vault.enableAudit();
        const deleted = await vault.request('DELETE', entryPath('minio-key-1', 'metadata'));
        assert.ok(deleted.status < 300, `deleted: HTTP ${deleted.status}`);
        await sleep(AFTER_CACHE_MS);
        const before = vault.auditedWrites().length;
        const result = await reconcile();
        assert.equal(result.reason, 'KeyMissing');
        const creates = vault.auditedWrites().slice(before).filter((entry) => entry.path.includes('minio-key-1'));
        assert.deepEqual(creates, [], 'no write reached the key');
        assert.equal((await vault.request('GET', entryPath('minio-key-1'))).status, 404);
        // MinIO's identity may not create it either (MinIO would at start-up).
        const minio = new KesClient({ endpoint: kes.url, clientCert: minioClient.cert, clientKey: minioClient.key, ca: ca.cert });
        try {
          await assert.rejects(minio.createKey('minio-key-1'), (err: KesError) => err.reason === 'PolicyDenied');
        } finally {
          minio.close();
        }
      });

      it('creates a new key only when a person accepts the loss', async () => {
        const accepted = await reconcile({ [ACCEPT_NEW_KEY_ANNOTATION]: 'minio-key-1@2026-01-01T00:00:00.000Z' });
        assert.equal(accepted.status, 'True');
        assert.equal((await vault.request('GET', entryPath('minio-key-1'))).status, 200);
      });

      it('reports a key whose material was replaced in Vault as KeyReplaced, in KeysReady and EncryptionVerified', async () => {
        const other = await vault.request('GET', entryPath('minio-key-2'));
        const data = (kvVersion === 'v1' ? other.body?.['data'] : (other.body?.['data'] as { data: unknown }).data) as Record<string, string>;
        const material = data['minio-key-2'];
        assert.ok(material, 'KES stores the key under its own name');
        await vault.request('DELETE', entryPath('minio-key-1', 'metadata'));
        const body = kvVersion === 'v1' ? { 'minio-key-1': material } : { data: { 'minio-key-1': material } };
        assert.ok((await vault.request('POST', entryPath('minio-key-1'), body)).status < 300);
        await sleep(AFTER_CACHE_MS);
        assert.equal((await reconcile()).reason, 'KeyReplaced');
        assert.equal((await verifyStep({ endpoint }).run(world.context(spec))).reason, 'KeyReplaced');
      });
    });
  }
});
