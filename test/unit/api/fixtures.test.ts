// Each invalid fixture is a full KMSDeployment manifest whose annotations record where the error
// must be reported and which layer must reject it (see test/fixtures/README.md). The integration
// test applies the same files to a real kube-apiserver.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateKMSDeployment, type ViolationOrigin } from '../../../src/api/index.ts';
import { loadManifests, yamlFilesIn } from '../../support/manifests.ts';

const files = yamlFilesIn('test/fixtures/invalid');
const layers: ViolationOrigin[] = ['schema', 'unknownField', 'cel', 'operator'];

test('there are enough invalid fixtures, covering every layer', () => {
  assert.ok(files.length >= 25, `only ${files.length} fixtures`);
  const seen = new Set(files.map((f) => loadManifests(f).at(-1)?.metadata.annotations?.['test.kmsstack.io/expect-layer']));
  for (const layer of layers) assert.ok(seen.has(layer), `no fixture for layer ${layer}`);
});

for (const file of files) {
  test(file, () => {
    const docs = loadManifests(file);
    assert.ok(docs.length === 1 || docs.length === 2, 'a fixture is one object, or a stored object and its update');
    const object = docs.at(-1)!;
    const stored = docs.length === 2 ? docs[0] : undefined;
    const annotations = object.metadata.annotations ?? {};
    const expectedPaths = (annotations['test.kmsstack.io/expect-paths'] ?? '').split(',').filter(Boolean);
    const layer = annotations['test.kmsstack.io/expect-layer'] as ViolationOrigin;
    assert.ok(expectedPaths.length > 0 && layers.includes(layer), 'fixture lacks its expect-paths / expect-layer annotations');
    assert.equal(object.apiVersion, 'kmsstack.io/v1alpha1');
    assert.equal(object.kind, 'KMSDeployment');
    if (stored) {
      assert.equal(stored.metadata.name, object.metadata.name);
      assert.deepEqual(validateKMSDeployment(stored), [], 'the stored object of an update fixture must be valid');
    }

    const errors = validateKMSDeployment(object, stored ? { old: stored } : {});

    for (const path of expectedPaths) {
      const hit = errors.find((e) => e.path === path);
      assert.ok(hit, `no error at ${path}; got ${JSON.stringify(errors)}`);
      assert.equal(hit.origin, layer, `error at ${path} comes from ${hit.origin}, fixture says ${layer}`);
    }
    // One reason per fixture, so a real API server's answer can be matched unambiguously.
    const alsoPaths = (annotations['test.kmsstack.io/also-paths'] ?? '').split(',').filter(Boolean);
    for (const path of alsoPaths) assert.ok(errors.some((e) => e.path === path), `no consequential error at ${path}`);
    const elsewhere = errors.filter((e) => !expectedPaths.includes(e.path) && !alsoPaths.includes(e.path));
    assert.deepEqual(elsewhere, [], 'errors outside the expected paths');
    if (layer !== 'operator') {
      assert.ok(
        errors.every((e) => e.origin !== 'operator'),
        'a fixture for the API server must not rely on an operator-only check',
      );
    }
  });
}
