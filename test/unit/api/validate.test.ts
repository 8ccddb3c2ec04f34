import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { applyDefaults, applySchemaDefaults, defaultKesImage, defaultMinioImage, formerDefaultImageHint, validate, type KMSDeploymentSpec } from '../../../src/api/index.ts';
import { kesSchema } from '../../../src/api/schema/kes.ts';
import { minioSchema } from '../../../src/api/schema/minio.ts';

function vaultSpec(): KMSDeploymentSpec {
  return {
    vault: { address: 'https://vault.vault.svc:8200', auth: { token: { secretRef: { name: 'vault-token' } } }, kv: { prefix: 'minio' } },
    kes: { keys: [{ name: 'minio-key-1' }] },
  };
}

const paths = (spec: unknown, options = {}) => validate(spec, options).map((e) => e.path);

test('a small Vault spec is valid and gets every default', () => {
  const spec = vaultSpec();
  assert.deepEqual(validate(spec), []);
  const defaulted = applyDefaults(spec);
  assert.equal(defaulted.mode, 'Vault');
  assert.deepEqual(defaulted.vault?.kv, { prefix: 'minio', mountPath: 'kv', version: 'v1', create: true });
  assert.deepEqual(defaulted.vault?.auth.token?.secretRef, { name: 'vault-token', key: 'token' });
  assert.deepEqual(defaulted.vault?.appRole, { mountPath: 'approle', tokenTTL: '5m', tokenMaxTTL: '1h', secretIDTTL: '24h', secretIDRenewBefore: '8h' });
  assert.equal(defaulted.kes?.image, defaultKesImage);
  assert.deepEqual(defaulted.kes?.cache, { expiry: { any: '5m', unused: '20s' } });
  assert.equal(defaulted.minio.keyName, 'minio-key-1');
  assert.deepEqual(defaulted.minio.storage, { size: '10Gi' });
  assert.deepEqual(defaulted.tls, { validity: '2160h', renewBefore: '720h', clusterDomain: 'cluster.local' });
  assert.equal(defaulted.keyDeletionPolicy, 'Retain');
  assert.equal(defaulted.verifyEncryption, true);
});

test('applyDefaults does not touch its input, keeps set values and is idempotent', () => {
  const spec = { ...vaultSpec(), minio: { replicas: 1, keyName: 'minio-key-1' } };
  const before = structuredClone(spec);
  const once = applyDefaults(spec);
  assert.deepEqual(spec, before);
  assert.equal(once.minio.replicas, 1);
  assert.deepEqual(applyDefaults(once), once);
});

test('images: the spec wins, else the operator-wide default, else the built-in one; the CRD stores none', () => {
  const mirror = { kesImage: 'registry.corp:5000/mirror/kes:2025-03-12T09-35-18Z', minioImage: 'registry.corp:5000/mirror/minio:RELEASE.2025-09-07T16-13-09Z' };
  const bare = applyDefaults(vaultSpec());
  assert.deepEqual([bare.kes?.image, bare.minio.image], [defaultKesImage, defaultMinioImage]);
  assert.deepEqual([defaultKesImage, defaultMinioImage], ['quay.io/minio/kes:2025-03-12T09-35-18Z', 'quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z']);
  const mirrored = applyDefaults(vaultSpec(), mirror);
  assert.deepEqual([mirrored.kes?.image, mirrored.minio.image], [mirror.kesImage, mirror.minioImage]);
  // An empty setting is no setting (an empty environment variable in the chart).
  assert.equal(applyDefaults(vaultSpec(), { kesImage: '' }).kes?.image, defaultKesImage);
  // An object still holding the old CRD default keeps it: only an unset field follows the operator.
  const pinned = { ...vaultSpec(), kes: { keys: [{ name: 'minio-key-1' }], image: 'minio/kes:2025-03-12T09-35-18Z' }, minio: { image: 'minio/minio:RELEASE.2025-10-15T17-29-55Z' } };
  const kept = applyDefaults(pinned, mirror);
  assert.deepEqual([kept.kes?.image, kept.minio.image], ['minio/kes:2025-03-12T09-35-18Z', 'minio/minio:RELEASE.2025-10-15T17-29-55Z']);
  // What the API server stores has no image (a CRD default would always win over the operator's), and no KES section in StaticKey mode.
  const stored = applySchemaDefaults(vaultSpec());
  assert.deepEqual([stored.kes?.image, stored.minio?.image], [undefined, undefined]);
  assert.equal(applyDefaults({ mode: 'StaticKey', minio: { keyName: 'k' } }, mirror).kes, undefined);
  for (const image of [kesSchema.properties?.image, minioSchema.properties?.image]) assert.equal(image?.default, undefined);
  // The steps tell the owner of such an object why its pods wait, and only then.
  assert.match(formerDefaultImageHint('spec.kes.image', 'minio/kes:2025-03-12T09-35-18Z') ?? '', /^spec\.kes\.image is minio\/kes:2025-03-12T09-35-18Z, the default of earlier releases/);
  assert.equal(formerDefaultImageHint('spec.kes.image', defaultKesImage), undefined);
});

test('validate reports every violation at once, each at its own path', () => {
  const spec = {
    vault: { address: 'ftp://vault', auth: {}, kv: { version: 'v3', prefix: '/minio' }, appRole: { tokenTTL: '1d' } },
    kes: { replicas: 0, keys: [{ name: 'minio-key-1' }, { name: 'minio-key-1' }] },
    minio: { replicas: 3, keyName: 'other', storage: { size: '10GB' } },
    tls: { renewBefore: '3000h' },
    keyDeletionPolicy: 'Purge',
  };
  assert.deepEqual(new Set(paths(spec)), new Set([
    'spec.vault.address', 'spec.vault.auth', 'spec.vault.kv.version', 'spec.vault.kv.prefix', 'spec.vault.appRole.tokenTTL',
    'spec.kes.replicas', 'spec.kes.keys[1]', 'spec.minio.replicas', 'spec.minio.keyName', 'spec.minio.storage.size',
    'spec.tls.renewBefore', 'spec.keyDeletionPolicy',
  ]));
});

test('messages are written for users, not in validator jargon', () => {
  const spec = {
    mode: 'vault',
    vault: { address: 7, auth: { token: {} }, kv: { prefix: 'a/../b', mountPath: '' }, extra: true },
    kes: { keys: [], replicas: 99, image: 'Bad Image' },
    minio: { drivesPerServer: 1.5, podAnnotations: { a: 1 } },
    tls: { validity: '90d' },
  };
  const errors = validate(spec);
  assert.ok(errors.length >= 10);
  for (const { path, message } of errors) {
    assert.doesNotMatch(message, /must NOT|must match pattern|additionalProperty|instancePath|#\/|\^\[/, `${path}: ${message}`);
    assert.match(path, /^spec(\.|\[|$)/);
  }
  const byPath = Object.fromEntries(errors.map((e) => [e.path, e.message]));
  assert.match(byPath['spec.mode'] ?? '', /must be one of "Vault", "StaticKey" \(got "vault"\)/);
  assert.match(byPath['spec.tls.validity'] ?? '', /must be a duration such as/);
  assert.match(byPath['spec.vault.auth.token.secretRef'] ?? '', /is required/);
  assert.match(byPath['spec.vault.extra'] ?? '', /is not a field/);
  assert.match(byPath['spec.minio.podAnnotations[a]'] ?? byPath['spec.minio.podAnnotations.a'] ?? '', /must be a string/);
});

test('map keys that are not identifiers are shown in brackets', () => {
  const spec = { ...vaultSpec(), minio: { nodeSelector: { 'kubernetes.io/os': 5 } } };
  assert.deepEqual(paths(spec), ['spec.minio.nodeSelector[kubernetes.io/os]']);
});

test('immutable fields are checked only against the previous spec', () => {
  const old = vaultSpec();
  const changed = { ...vaultSpec(), vault: { ...vaultSpec().vault!, kv: { prefix: 'minio/other', version: 'v2' as const, mountPath: 'secret' } } };
  assert.deepEqual(validate(changed), []);
  assert.deepEqual(validate(old, { old }), []);
  const errors = validate(changed, { old });
  assert.deepEqual(errors.map((e) => [e.path, e.origin]), [
    ['spec.vault.kv.mountPath', 'cel'], ['spec.vault.kv.version', 'cel'], ['spec.vault.kv.prefix', 'cel'],
  ]);
  assert.match(errors[0]!.message, /is immutable/);
});

test('setting a default explicitly is not a change', () => {
  const old = vaultSpec();
  const explicit = { ...vaultSpec(), mode: 'Vault' as const, minio: { keyName: 'minio-key-1' } };
  explicit.vault!.kv = { prefix: 'minio', mountPath: 'kv', version: 'v1' };
  assert.deepEqual(validate(explicit, { old }), []);
});

test('StaticKey mode needs neither vault nor kes, and forbids both', () => {
  assert.deepEqual(validate({ mode: 'StaticKey', minio: { replicas: 1 } }), []);
  assert.deepEqual(paths({ mode: 'StaticKey', minio: { replicas: 1 }, kes: { keys: [{ name: 'minio-key-1' }] } }), ['spec.kes']);
  assert.deepEqual(paths({}), ['spec.vault', 'spec.kes']);
});

test('MinIO layouts: one server, or at least 4 drives in symmetric erasure sets of 2 to 16', () => {
  const layouts: [number, number, boolean][] = [
    [1, 1, true], [1, 4, true], [2, 2, true], [4, 1, true], [16, 1, true], [6, 3, true], [5, 1, true], [32, 16, true],
    [2, 1, false], [3, 1, false], [17, 1, false], [17, 2, false], [19, 1, false],
  ];
  for (const [replicas, drivesPerServer, ok] of layouts) {
    const errors = validate({ ...vaultSpec(), minio: { replicas, drivesPerServer } });
    assert.equal(errors.length === 0, ok, `${replicas} x ${drivesPerServer}: ${JSON.stringify(errors)}`);
    if (!ok) assert.deepEqual(errors.map((e) => [e.path, e.origin]), [['spec.minio.replicas', 'operator']]);
  }
});

test('the KMSDeployment name must fit the child object names', () => {
  assert.deepEqual(paths(vaultSpec(), { name: 'tenant-a' }), []);
  for (const name of ['Tenant-A', '1tenant', 'tenant-', 'a'.repeat(41)]) assert.deepEqual(paths(vaultSpec(), { name }), ['metadata.name']);
});

test('a missing or non-object spec is reported, not thrown', () => {
  assert.deepEqual(validate(undefined), [{ path: 'spec', message: 'is required', origin: 'schema' }]);
  assert.deepEqual(paths('spec'), ['spec']);
  assert.deepEqual(paths([]), ['spec']);
});

test('validate never throws and always names a spec path, whatever the input', () => {
  const anyValue = fc.anything({ maxDepth: 4 });
  const mutatedSpec = fc.record({
    mode: fc.option(fc.oneof(fc.constantFrom('Vault', 'StaticKey'), anyValue), { nil: undefined }),
    vault: fc.option(fc.dictionary(fc.constantFrom('address', 'auth', 'kv', 'appRole', 'tls'), anyValue), { nil: undefined }),
    kes: fc.option(fc.dictionary(fc.constantFrom('keys', 'replicas', 'cache', 'image'), anyValue), { nil: undefined }),
    minio: fc.option(fc.dictionary(fc.constantFrom('replicas', 'drivesPerServer', 'keyName', 'storage'), anyValue), { nil: undefined }),
    tls: fc.option(fc.dictionary(fc.constantFrom('validity', 'renewBefore'), fc.oneof(fc.string(), fc.constantFrom('1h', '0s', '99999h'))), { nil: undefined }),
  });
  fc.assert(
    fc.property(fc.oneof(anyValue, mutatedSpec), fc.option(mutatedSpec, { nil: undefined }), (spec, old) => {
      for (const error of validate(spec, { old })) {
        assert.match(error.path, /^spec(\.|\[|$)/);
        assert.ok(error.message.length > 0);
      }
    }),
    { numRuns: 300 },
  );
});

test('values the schema rejects are not judged again by the MinIO layout checks (found by the property above)', () => {
  assert.doesNotThrow(() => validate({ minio: { replicas: { toString: 0 } } }));
  assert.doesNotThrow(() => validate({ minio: { replicas: 4, pools: [null] } }));
  assert.deepEqual(paths({ mode: 'StaticKey', minio: { replicas: { toString: 0 } } }).filter((p) => p.startsWith('spec.minio')), ['spec.minio.replicas']);
});
