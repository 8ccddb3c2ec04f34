// The install and Argo CD docs stay true to the files they describe: the argocd-cm block in
// docs/argocd.md is health.lua verbatim, and docs/install.md lists every chart value with its default.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as yaml from 'js-yaml';
import { chartDir, repoRoot } from './helm.ts';

const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');
const yamlBlocks = (markdown: string) => [...markdown.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);

/** Leaf keys of values.yaml as dotted paths with their defaults; `resources` is one entry. */
function leaves(value: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(value).flatMap(([key, member]): [string, unknown][] => {
    const path = prefix ? `${prefix}.${key}` : key;
    const isMap = member !== null && typeof member === 'object' && !Array.isArray(member) && Object.keys(member).length > 0;
    return isMap && path !== 'resources' ? leaves(member as Record<string, unknown>, path) : [[path, member]];
  });
}

describe('docs', () => {
  test('docs/argocd.md installs exactly charts/kmsstack-operator/argocd/health.lua', () => {
    const script = readFileSync(join(chartDir, 'argocd/health.lua'), 'utf8');
    const configMaps = yamlBlocks(read('docs/argocd.md'))
      .map((block) => yaml.load(block) as { kind?: string; data?: Record<string, string> })
      .filter((doc) => doc?.kind === 'ConfigMap');
    assert.equal(configMaps.length, 1);
    assert.equal(configMaps[0]?.data?.['resource.customizations.health.kmsstack.io_KMSDeployment'], script);
  });

  test('docs/install.md has a row for every chart value, with its default', () => {
    const values = yaml.load(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    const doc = read('docs/install.md');
    for (const [path, fallback] of leaves(values)) {
      const row = new RegExp(`^\\| \`${path.replace(/\./g, '\\.')}\` \\| \`([^\`]*)\` \\|`, 'm').exec(doc);
      assert.ok(row, `docs/install.md has no row for ${path}`);
      if (path === 'resources') continue;
      const shown = row[1] === '""' ? '' : (yaml.load(row[1] as string) ?? null);
      assert.deepEqual(shown, fallback, `default of ${path} in docs/install.md`);
    }
  });

  test('docs/install.md gives the CRD upgrade command that works after helm install', () => {
    assert.match(read('docs/install.md'), /kubectl apply --server-side --force-conflicts -f crds\//);
    assert.match(readFileSync(join(chartDir, 'templates/NOTES.txt'), 'utf8'), /kubectl apply --server-side --force-conflicts -f crds\//);
  });
});
