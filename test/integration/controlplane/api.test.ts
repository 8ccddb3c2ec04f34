// The KMSDeployment API against a real kube-apiserver: the CRD is accepted as structural, every
// example passes a server-side dry run as written and is stored with the defaults
// applySchemaDefaults() computes (the operator's own defaults, the images, are never stored), every
// invalid fixture the schema or a CEL rule must reject is rejected by kubectl with the field named,
// immutable fields stay immutable, and a watch sees create/update/delete.
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import * as yaml from 'js-yaml';
import { API_GROUP, API_VERSION, PLURAL, applySchemaDefaults, type KMSDeploymentSpec } from '../../../src/api/index.ts';
import { startControlPlane, type ControlPlane } from '../../env/controlplane.ts';
import { leftovers } from '../../env/process.ts';
import { loadManifests, repoRoot, yamlFilesIn, type Manifest } from '../../support/manifests.ts';

const crdName = `${PLURAL}.${API_GROUP}`;

async function kubectlFails(cp: ControlPlane, args: string[], manifest: Manifest): Promise<string> {
  try {
    await cp.kubectl(args, yaml.dump(manifest));
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err);
  }
  throw new Error(`kubectl ${args.join(' ')} accepted ${manifest.metadata.name}, which must be rejected`);
}

describe('KMSDeployment API on a real kube-apiserver', () => {
  let cp: ControlPlane;
  let custom: k8s.CustomObjectsApi;

  before(async () => {
    cp = await startControlPlane();
    custom = cp.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    for (const ns of ['examples', 'fixtures', 'watch', 'storage']) await cp.kubectl(['create', 'namespace', ns]);
  });

  after(async () => {
    await cp?.stop();
    assert.deepEqual(leftovers(), { processes: [], tempDirs: [] }, 'the control plane left processes or temp dirs behind');
  });

  it('accepts the CRD as structural and establishes it', async () => {
    const crd = await cp.kubeConfig.makeApiClient(k8s.ApiextensionsV1Api).readCustomResourceDefinition({ name: crdName });
    const status = (type: string) => crd.status?.conditions?.find((c) => c.type === type)?.status;
    assert.equal(status('Established'), 'True');
    assert.equal(status('NamesAccepted'), 'True');
    assert.equal(status('NonStructuralSchema'), undefined, 'the schema must be structural');
    assert.deepEqual(crd.spec.names.shortNames, ['kmsd']);
  });

  for (const file of yamlFilesIn('examples')) {
    it(`kubectl apply --dry-run=server accepts ${file} as written, without warnings`, async () => {
      // As the user runs it: the file itself, in the namespace its comments name (storage).
      const { stdout, stderr } = await cp.kubectl(['apply', '--dry-run=server', '--validate=strict', '-n', 'storage', '-f', join(repoRoot, file)]);
      assert.match(stdout.trim(), /^kmsdeployment\.kmsstack\.io\/[a-z0-9-]+ created \(server dry run\)$/);
      assert.equal(stderr.trim(), '', `warnings: ${stderr}`);
    });

    it(`stores ${file} with the defaults applySchemaDefaults() computes`, async () => {
      for (const manifest of loadManifests(file)) {
        delete (manifest.metadata as { namespace?: string }).namespace;
        await cp.kubectl(['apply', '--validate=strict', '-n', 'examples', '-f', '-'], yaml.dump(manifest));
        const stored = (await custom.getNamespacedCustomObject({
          group: API_GROUP, version: API_VERSION, namespace: 'examples', plural: PLURAL, name: manifest.metadata.name,
        })) as { spec: unknown };
        assert.deepEqual(stored.spec, applySchemaDefaults(manifest.spec as KMSDeploymentSpec));
      }
    });
  }

  for (const file of yamlFilesIn('test/fixtures/invalid')) {
    const manifests = loadManifests(file);
    const rejected = manifests[manifests.length - 1]!;
    const annotations = rejected.metadata.annotations ?? {};
    const layer = annotations['test.kmsstack.io/expect-layer'];
    const paths = (annotations['test.kmsstack.io/expect-paths'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);

    it(`${layer === 'operator' ? 'admits' : 'rejects'} ${file}${layer === 'operator' ? ' (left to the operator)' : ''}`, async () => {
      const stored = manifests.length > 1 ? manifests[0]! : undefined;
      if (stored) await cp.kubectl(['create', '--validate=strict', '-n', 'fixtures', '-f', '-'], yaml.dump(stored));
      try {
        const verb = stored ? 'replace' : 'create';
        if (layer === 'operator') {
          await cp.kubectl([verb, '--validate=strict', '-n', 'fixtures', '-f', '-'], yaml.dump(rejected));
          return;
        }
        const stderr = await kubectlFails(cp, [verb, '--validate=strict', '-n', 'fixtures', '-f', '-'], rejected);
        assert.ok(paths.length > 0, `${file} records no expected path`);
        for (const path of paths) assert.ok(stderr.includes(path), `error for ${file} does not name ${path}:\n${stderr}`);
      } finally {
        await cp.kubectl(['delete', '-n', 'fixtures', 'kmsd', rejected.metadata.name, '--ignore-not-found', '--wait=false']);
      }
    });
  }

  it("accepts a new spec.minio.keyName in Vault mode (a default-key rotation), but not dropping the default from kes.keys", async () => {
    const [example] = loadManifests('examples/kmsdeployment-minimal.yaml');
    const manifest = structuredClone({ ...example!, metadata: { name: 'rotated' } }) as Manifest & { spec: { kes: { keys: { name: string }[] }; minio?: { keyName?: string } } };
    manifest.spec.kes.keys = [{ name: 'minio-key-1' }];
    manifest.spec.minio = { ...manifest.spec.minio, keyName: 'minio-key-1' };
    await cp.kubectl(['apply', '--server-side', '-n', 'fixtures', '-f', '-'], yaml.dump(manifest));
    try {
      manifest.spec.kes.keys = [{ name: 'minio-key-1' }, { name: 'minio-key-2' }];
      manifest.spec.minio.keyName = 'minio-key-2';
      await cp.kubectl(['apply', '--server-side', '-n', 'fixtures', '-f', '-'], yaml.dump(manifest));
      manifest.spec.kes.keys = [{ name: 'minio-key-1' }];
      const stderr = await kubectlFails(cp, ['apply', '--server-side', '-n', 'fixtures', '-f', '-'], manifest);
      assert.match(stderr, /spec\.minio\.keyName: Invalid value: .*must be one of the key names in kes\.keys/);
    } finally {
      await cp.kubectl(['delete', '-n', 'fixtures', 'kmsd', 'rotated', '--wait=false']);
    }
  });

  it('sees create, update and delete through a watch', async () => {
    const seen: string[] = [];
    const watch = new k8s.Watch(cp.kubeConfig);
    let done: () => void = () => {};
    const deleted = new Promise<void>((resolve) => (done = resolve));
    const request = await watch.watch(`/apis/${API_GROUP}/${API_VERSION}/namespaces/watch/${PLURAL}`, {},
      (phase, obj: { metadata?: { name?: string } }) => {
        if (obj.metadata?.name !== 'watched') return;
        seen.push(phase);
        if (phase === 'DELETED') done();
      },
      () => {});
    try {
      const [example] = loadManifests('examples/kmsdeployment-minimal.yaml');
      const manifest = { ...example!, metadata: { name: 'watched' } };
      await cp.kubectl(['create', '-n', 'watch', '-f', '-'], yaml.dump(manifest));
      await cp.kubectl(['annotate', '-n', 'watch', 'kmsd', 'watched', 'touched=yes']);
      await cp.kubectl(['delete', '-n', 'watch', 'kmsd', 'watched']);
      await Promise.race([deleted, new Promise((_, reject) => setTimeout(() => reject(new Error(`watch saw only ${seen.join(',')}`)), 10_000))]);
      assert.deepEqual(seen, ['ADDED', 'MODIFIED', 'DELETED']);
    } finally {
      request.abort();
    }
  });
});
