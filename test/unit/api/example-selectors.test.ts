// The examples' pod selectors against the labels the operator really puts on the pods: the KES
// Deployment and MinIO StatefulSet are built from each example by the operator's own builders, and
// every labelSelector in spec.kes / spec.minio (affinity, topology spread) must select pods of its
// own component (a podAffinity term may aim at the other one). A selector that selects nothing makes
// anti-affinity silently do nothing, which is what `app.kubernetes.io/component: kes` once did.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyDefaults, type DefaultedKMSDeploymentSpec, type KMSDeploymentSpec } from '../../../src/api/index.ts';
import { buildKesDeployment } from '../../../src/kes/deployment.ts';
import { buildMinioStatefulSet } from '../../../src/minio/statefulset.ts';
import { labelSelectorsIn, selects } from '../../support/label-selector.ts';
import { loadManifests, yamlFilesIn } from '../../support/manifests.ts';

type Component = 'kes' | 'minio';

/** The pod-template labels of each component the example runs, as the operator builds them. */
function podLabelsOf(name: string, namespace: string, spec: DefaultedKMSDeploymentSpec): Partial<Record<Component, Record<string, string>>> {
  const deployment = { name, namespace };
  const checksums = { configChecksum: 'c', appRoleChecksum: 'a' };
  const labels: Partial<Record<Component, Record<string, string>>> = {
    minio: buildMinioStatefulSet({ deployment, spec, ...checksums }).spec?.template.metadata?.labels ?? {},
  };
  if (spec.mode === 'Vault' && spec.kes) labels.kes = buildKesDeployment({ deployment, spec, ...checksums }).spec?.template.metadata?.labels ?? {};
  return labels;
}

function checkedSelectors(file: string): number {
  const [example] = loadManifests(file);
  assert.ok(example);
  const namespace = (example.metadata as { namespace?: string }).namespace ?? 'storage';
  const raw = example.spec as KMSDeploymentSpec;
  const pods = podLabelsOf(example.metadata.name, namespace, applyDefaults(raw));
  let checked = 0;
  for (const component of ['kes', 'minio'] as const) {
    for (const { path, selector } of labelSelectorsIn(raw[component], `spec.${component}`)) {
      const targets: Component[] = path.includes('.podAffinity.') ? ['kes', 'minio'] : [component];
      const matched = targets.some((target) => pods[target] && selects(selector, pods[target]));
      assert.ok(matched, `${file}: ${path} ${JSON.stringify(selector)} selects none of the ${targets.join(' or ')} pods, labelled ${JSON.stringify(pods[component])}`);
      checked++;
    }
  }
  return checked;
}

describe('example selectors', () => {
  for (const file of yamlFilesIn('examples').filter((f) => f.includes('kmsdeployment'))) {
    test(`${file}: every pod selector selects pods the operator labels`, () => {
      checkedSelectors(file);
    });
  }

  test('the full example has selectors on both components, so the check above is not vacuous', () => {
    assert.ok(checkedSelectors('examples/kmsdeployment-full.yaml') >= 2);
  });

  test('control: the selector the examples once used (component: kes) selects no KES pod', () => {
    const [full] = loadManifests('examples/kmsdeployment-full.yaml');
    const kes = podLabelsOf('tenant-a', 'storage', applyDefaults(full?.spec as KMSDeploymentSpec)).kes ?? {};
    assert.equal(selects({ matchLabels: { 'app.kubernetes.io/instance': 'tenant-a', 'app.kubernetes.io/component': 'kes' } }, kes), false);
    assert.equal(selects({ matchLabels: { 'app.kubernetes.io/instance': 'tenant-a', 'app.kubernetes.io/name': 'kes' } }, kes), true);
    assert.equal(selects({ matchExpressions: [{ key: 'app.kubernetes.io/component', operator: 'In', values: ['key-server'] }] }, kes), true);
    assert.equal(selects({ matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'DoesNotExist' }] }, kes), false);
  });
});
