// deploy/ (the kustomize base) is the chart's defaults: operator.yaml is the chart rendered with its
// default values minus Helm's own labels (UPDATE_GOLDEN=1 rewrites it); crd.yaml is written by
// `npm run gen` and its staleness is checked with the other generated files. `kubectl kustomize deploy/` must build them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import * as yaml from 'js-yaml';
import { testBinary } from '../../env/process.ts';
import { parseManifest, renderManifest, repoRoot, type KubeObject } from './helm.ts';

const execFileAsync = promisify(execFile);
const deployDir = join(repoRoot, 'deploy');
const helmOnlyLabels = ['helm.sh/chart', 'app.kubernetes.io/managed-by'];

function withoutHelmLabels(object: KubeObject): KubeObject {
  const copy = structuredClone(object);
  const strip = (labels: Record<string, string> | undefined) => {
    for (const label of helmOnlyLabels) if (labels) delete labels[label];
  };
  strip(copy.metadata.labels);
  strip((copy.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template?.metadata?.labels);
  return copy;
}

/** deploy/operator.yaml as it must be: the chart's default rendering in kmsstack-system. */
async function expectedOperatorYaml(): Promise<string> {
  const objects = parseManifest(await renderManifest()).map(withoutHelmLabels);
  const header =
    '# Generated from charts/kmsstack-operator with its default values (release kmsstack-operator in\n' +
    '# kmsstack-system), without Helm\'s own labels. Do not edit: change the chart and run\n' +
    '# UPDATE_GOLDEN=1 npm exec -- node --import tsx --test test/unit/packaging/deploy.test.ts\n';
  return header + objects.map((o) => `---\n${yaml.dump(o, { noRefs: true, lineWidth: -1 })}`).join('');
}

function assertFile(path: string, expected: string): void {
  const file = join(repoRoot, path);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, expected);
  assert.equal(readFileSync(file, 'utf8'), expected, `${path} is stale: rerun this test with UPDATE_GOLDEN=1 and review the diff`);
}

const identity = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

describe('kustomize base deploy/', () => {
  test('deploy/operator.yaml is the chart rendered with its defaults', async () => {
    assertFile('deploy/operator.yaml', await expectedOperatorYaml());
  });

  test('kubectl kustomize deploy/ builds the namespace, the CRD and the chart\'s default objects', async () => {
    const { stdout } = await execFileAsync(testBinary('kubectl'), ['kustomize', deployDir], { maxBuffer: 16 * 1024 * 1024 });
    const built = parseManifest(stdout);
    const chart = parseManifest(await renderManifest()).map(withoutHelmLabels);
    const crd = parseManifest(readFileSync(join(repoRoot, 'crds/kmsdeployment.yaml'), 'utf8'));
    const expected = [...chart, ...crd].map(identity).concat('Namespace//kmsstack-system').sort();
    assert.deepEqual(built.map(identity).sort(), expected);
    for (const object of chart) {
      assert.deepEqual(built.find((b) => identity(b) === identity(object)), object, `${identity(object)} differs from the chart's`);
    }
    const namespace = built.find((o) => o.kind === 'Namespace');
    assert.equal(namespace?.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
  });

  test('the overlay of docs/install.md sets the image, the allowed Vault server and the default KES and MinIO images', async () => {
    const doc = readFileSync(join(repoRoot, 'docs/install.md'), 'utf8');
    const overlay = /```yaml\n# my-overlay\/kustomization\.yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(overlay, 'docs/install.md has no my-overlay/kustomization.yaml block');
    const dir = mkdtempSync(join(tmpdir(), 'overlay-'));
    try {
      symlinkSync(deployDir, join(dir, 'deploy'));
      mkdirSync(join(dir, 'my-overlay'));
      writeFileSync(join(dir, 'my-overlay', 'kustomization.yaml'), overlay);
      const { stdout } = await execFileAsync(testBinary('kubectl'), ['kustomize', join(dir, 'my-overlay')], { maxBuffer: 16 * 1024 * 1024 });
      const deployment = parseManifest(stdout).find((o) => o.kind === 'Deployment') as KubeObject & { spec: { template: { spec: { containers: { image: string; env: { name: string; value?: string }[] }[] } } } };
      const [container] = deployment.spec.template.spec.containers;
      assert.equal(container?.image, 'registry.example.com/kmsstack-operator:0.1.0');
      const env = (name: string) => container?.env.find((e) => e.name === name)?.value;
      assert.equal(env('KMSSTACK_VAULT_ADDRESSES'), 'https://vault.vault.svc:8200');
      assert.equal(env('KMSSTACK_DEFAULT_KES_IMAGE'), 'registry.example.com/mirror/minio/kes:2025-03-12T09-35-18Z');
      assert.equal(env('KMSSTACK_DEFAULT_MINIO_IMAGE'), 'registry.example.com/mirror/minio/minio:RELEASE.2025-09-07T16-13-09Z');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
