import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyDefaults, kmsDeploymentSchema, validateKMSDeployment, type JSONSchema, type KMSDeploymentSpec } from '../../../src/api/index.ts';
import { loadManifests, yamlFilesIn } from '../../support/manifests.ts';
import { buildKesConfig } from '../../../src/kes/config.ts';
import { caSecretRefProblem } from '../../../src/controllers/kmsdeployment/steps/pki.ts';
import { pkiSecretNames } from '../../../src/pki/names.ts';
import { resolveVaultSettings } from '../../../src/vault/settings.ts';
import { DEFAULT_PREFIX_TEMPLATE, parsePrefixTemplate, prefixNotAllowed } from '../../../src/vault/tenancy.ts';

for (const file of yamlFilesIn('examples').filter((f) => f.includes('kmsdeployment'))) {
  test(`${file} is a valid KMSDeployment, also for the checks only the PKI step makes`, () => {
    const docs = loadManifests(file);
    assert.equal(docs.length, 1);
    assert.deepEqual(validateKMSDeployment(docs[0]), []);
    const spec = applyDefaults(docs[0]?.spec as KMSDeploymentSpec);
    assert.equal(caSecretRefProblem(spec.tls.caSecretRef?.name, pkiSecretNames(docs[0]?.metadata.name ?? '')), undefined);
  });
}

/** Paths of every field declared under spec, e.g. spec.vault.kv.version (pass-through types are leaves). */
function declaredPaths(node: JSONSchema, path: string): string[] {
  if (node['x-kubernetes-preserve-unknown-fields'] || node.additionalProperties) return [path];
  const children = Object.entries(node.properties ?? {}).flatMap(([k, v]) => declaredPaths(v, `${path}.${k}`));
  const items = node.items ? declaredPaths(node.items, `${path}[]`) : [];
  return children.length + items.length === 0 ? [path] : [...children, ...items];
}

function presentPaths(value: unknown, path: string): string[] {
  if (Array.isArray(value)) return [path, ...value.flatMap((v) => presentPaths(v, `${path}[]`))];
  if (value !== null && typeof value === 'object') {
    return [path, ...Object.entries(value).flatMap(([k, v]) => presentPaths(v, `${path}.${k}`))];
  }
  return [path];
}

/** Fields the full example leaves out on purpose, each with the reason (the example must be applicable as written). */
const deliberatelyAbsent: Record<string, string> = {
  'spec.vault.auth.token': 'the alternative to spec.vault.auth.kubernetes: exactly one may be set',
  'spec.vault.tls.serverName': 'KES (2025-03-12) has no setting for it, so the KES config builder refuses a spec that sets it (docs/vault.md)',
};

test('the full example sets every field except the ones it leaves out on purpose', () => {
  const [full] = loadManifests('examples/kmsdeployment-full.yaml');
  const present = new Set(presentPaths(full?.spec, 'spec'));
  const declared = declaredPaths(kmsDeploymentSchema.properties!.spec!, 'spec');
  const missing = declared.filter((p) => !present.has(p) && !Object.keys(deliberatelyAbsent).some((a) => p === a || p.startsWith(`${a}.`)));
  assert.deepEqual(missing, []);
  for (const absent of Object.keys(deliberatelyAbsent)) {
    assert.ok(declared.some((p) => p === absent || p.startsWith(`${absent}.`)), `${absent} is still a field of the schema`);
    assert.ok(![...present].some((p) => p === absent || p.startsWith(`${absent}.`)), `${absent} is left out of the full example`);
  }
});

test('the full example is one the KES config builder accepts', () => {
  const [full] = loadManifests('examples/kmsdeployment-full.yaml');
  const spec = applyDefaults(full?.spec as KMSDeploymentSpec);
  const identities = { minio: 'a'.repeat(64), operator: 'b'.repeat(64) };
  assert.doesNotThrow(() => buildKesConfig({ deployment: { namespace: 'storage', name: full?.metadata.name ?? '' }, spec, identities, vaultRole: 'role' }));
});

test('the minimal example is the guide setup: KV v1 at kv, keys under minio (in the namespace storage\'s root), key minio-key-1', () => {
  const [minimal] = loadManifests('examples/kmsdeployment-minimal.yaml');
  const spec = applyDefaults(minimal?.spec as KMSDeploymentSpec);
  assert.equal(spec.mode, 'Vault');
  assert.deepEqual(
    { mountPath: spec.vault?.kv.mountPath, version: spec.vault?.kv.version, prefix: spec.vault?.kv.prefix },
    { mountPath: 'kv', version: 'v1', prefix: 'kmsstack/storage/minio' },
  );
  assert.deepEqual(spec.kes?.keys, [{ name: 'minio-key-1' }]);
  assert.equal(spec.minio.keyName, 'minio-key-1');
});

test('every Vault example uses a prefix the default --kv-prefix-template allows in the namespace it is written for', () => {
  const rule = parsePrefixTemplate(DEFAULT_PREFIX_TEMPLATE);
  for (const file of yamlFilesIn('examples').filter((f) => f.includes('kmsdeployment'))) {
    const [example] = loadManifests(file);
    const spec = applyDefaults(example?.spec as KMSDeploymentSpec);
    if (spec.mode !== 'Vault') continue;
    // The minimal example leaves the namespace to kubectl -n; its comment names storage.
    const namespace = (example?.metadata as { namespace?: string } | undefined)?.namespace ?? 'storage';
    const settings = resolveVaultSettings(spec.vault, { namespace, name: example?.metadata.name ?? '' });
    assert.equal(prefixNotAllowed(rule, settings), undefined, file);
  }
});
