import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generatedPaths, renderGeneratedFiles, repoRoot } from '../../../hack/gen.ts';

test('generated files are up to date with src/api/schema.ts', async () => {
  const rendered = await renderGeneratedFiles();
  assert.deepEqual([...rendered.keys()].sort(), Object.values(generatedPaths).sort());
  for (const [path, content] of rendered) {
    let onDisk: string;
    try {
      onDisk = readFileSync(join(repoRoot, path), 'utf8');
    } catch {
      assert.fail(`${path} is missing: run npm run gen`);
    }
    assert.ok(onDisk === content, `${path} is stale (it differs from what the schema generates): run npm run gen`);
  }
});

test('the Helm chart ships the same CRD as crds/', () => {
  assert.equal(
    readFileSync(join(repoRoot, generatedPaths.chartCrd), 'utf8'),
    readFileSync(join(repoRoot, generatedPaths.crd), 'utf8'),
  );
});
