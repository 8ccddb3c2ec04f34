// The chart and the kustomize base against a real kube-apiserver: server-side dry runs of every
// rendering (strict field validation, admission, Pod Security warnings), a real `kubectl apply -k
// deploy/`, and the CRD as kubectl users see it (printer columns, short name, category, explain).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as yaml from 'js-yaml';
import { startControlPlane, type ControlPlane } from '../../env/controlplane.ts';
import { waitFor } from '../../env/process.ts';
import { chartDir, helm, parseManifest, renderManifest, repoRoot } from '../../unit/packaging/helm.ts';
import { applyDefaults, type KMSDeploymentSpec } from '../../../src/api/index.ts';
import { buildKesDeployment, buildKesService } from '../../../src/kes/deployment.ts';
import { checksumOf } from '../../../src/workload/checksum.ts';
import { buildMinioService } from '../../../src/minio/services.ts';
import { buildMinioStatefulSet } from '../../../src/minio/statefulset.ts';
import { loadManifests } from '../../support/manifests.ts';
import { ref, vaultSpec } from '../../unit/kes/fixtures.ts';

const here = dirname(fileURLToPath(import.meta.url));
const podSecurityWarning = /would violate PodSecurity/;
let cp: ControlPlane;

before(async () => {
  // The CRD is not preinstalled: `kubectl apply -k deploy/` has to install it.
  cp = await startControlPlane({ installCRDs: false });
});
after(async () => {
  await cp?.stop();
});

/** Creates a namespace that warns about anything below the restricted Pod Security Standard. */
async function restrictedNamespace(name: string): Promise<void> {
  await cp.kubectl(['create', 'namespace', name]);
  await cp.kubectl(['label', 'namespace', name, 'pod-security.kubernetes.io/warn=restricted', 'pod-security.kubernetes.io/enforce=restricted']);
}

/** Waits until the API server serves `crd` (a name such as crd/kmsdeployments.kmsstack.io), after `kubectl apply` of `applyArgs` if given. */
async function established(crd: string, applyArgs?: string[]): Promise<void> {
  if (applyArgs) await cp.kubectl(['apply', ...applyArgs]);
  await cp.kubectl(['wait', '--for=condition=Established', '--timeout=60s', crd]);
}

/** kubectl apply --dry-run=server of `manifest`; returns what kubectl printed (it throws if the server refused anything). */
async function serverDryRun(manifest: string): Promise<{ stdout: string; stderr: string }> {
  const result = await cp.kubectl(['apply', '--dry-run=server', '-f', '-'], manifest);
  const applied = result.stdout.trim().split('\n');
  assert.equal(applied.length, parseManifest(manifest).length, `one line per object:\n${result.stdout}`);
  for (const line of applied) assert.match(line, /\(server dry run\)$/);
  return result;
}

describe('chart and kustomize base on a real API server', () => {
  test('Pod Security warnings are reported by this API server (control for the checks below)', async () => {
    await restrictedNamespace('psa-control');
    const privileged = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'privileged', namespace: 'psa-control' },
      spec: {
        selector: { matchLabels: { app: 'x' } },
        template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'x', image: 'x', securityContext: { privileged: true } }] } },
      },
    };
    const { stderr } = await serverDryRun(yaml.dump(privileged));
    assert.match(stderr, podSecurityWarning);
  });

  test('the KES Deployment the operator builds meets the restricted Pod Security Standard (no IPC_LOCK)', async () => {
    await restrictedNamespace('kes-psa');
    const kes = buildKesDeployment({ deployment: { ...ref, namespace: 'kes-psa' }, spec: vaultSpec(), configChecksum: checksumOf(['c']), appRoleChecksum: 'a'.repeat(64) });
    const { stderr } = await serverDryRun(yaml.dump(kes));
    assert.equal(stderr.trim(), '', `warnings: ${stderr}`);
  });

  test("KES and MinIO with the full example's pod settings (no fixed UID, extra env, spread, labels) meet restricted too", async () => {
    await restrictedNamespace('pods-psa');
    const [full] = loadManifests('examples/kmsdeployment-full.yaml');
    const spec = applyDefaults(full?.spec as KMSDeploymentSpec);
    assert.equal(spec.minio.podSecurityContext?.runAsUser, undefined, 'the example leaves the UID to the platform');
    const at = { ...ref, namespace: 'pods-psa' };
    // The example's ServiceAccount and PriorityClass are the cluster's business; the dry run must not need them.
    for (const section of [spec.kes, spec.minio] as { serviceAccountName?: string; priorityClassName?: string }[]) {
      delete section.serviceAccountName;
      delete section.priorityClassName;
    }
    const objects = [
      buildKesDeployment({ deployment: at, spec, configChecksum: checksumOf(['c']), appRoleChecksum: 'a'.repeat(64) }),
      buildKesService(at, spec),
      buildMinioStatefulSet({ deployment: at, spec, configChecksum: checksumOf(['c']) }),
      buildMinioService(at, spec),
    ];
    const { stderr } = await serverDryRun(objects.map((o) => yaml.dump(o)).join('---\n'));
    assert.equal(stderr.trim(), '', `warnings: ${stderr}`);
  });

  test('helm template with the defaults is accepted, without Pod Security warnings', async () => {
    await restrictedNamespace('kmsstack-helm');
    const { stderr } = await serverDryRun(await renderManifest({}, 'kmsstack-helm'));
    assert.doesNotMatch(stderr, podSecurityWarning);
    assert.equal(stderr.trim(), '', `warnings: ${stderr}`);
  });

  test('helm template watching a list of namespaces is accepted', async () => {
    await cp.kubectl(['create', 'namespace', 'team-a']);
    await cp.kubectl(['create', 'namespace', 'team-b']);
    const manifest = await renderManifest({ watchNamespaces: ['team-a', 'team-b'] }, 'kmsstack-helm');
    const { stderr } = await serverDryRun(manifest);
    assert.equal(stderr.trim(), '', `warnings: ${stderr}`);
  });

  test('helm template with ServiceMonitor, PodDisruptionBudget and two replicas is accepted', async () => {
    await established('crd/servicemonitors.monitoring.coreos.com', ['-f', join(here, 'fixtures/servicemonitor-crd.yaml')]);
    const manifest = await renderManifest(
      { replicaCount: 2, metrics: { serviceMonitor: { enabled: true, interval: '15s', scrapeTimeout: '5s', labels: { release: 'prom' } } }, podDisruptionBudget: { enabled: true } },
      'kmsstack-helm',
    );
    const kinds = parseManifest(manifest).map((o) => o.kind);
    assert.ok(kinds.includes('ServiceMonitor') && kinds.includes('PodDisruptionBudget'));
    const { stderr } = await serverDryRun(manifest);
    assert.equal(stderr.trim(), '', `warnings: ${stderr}`);
  });

  test('a field the API does not know is refused (the dry runs validate strictly)', async () => {
    const manifest = (await renderManifest({}, 'kmsstack-helm')).replace('revisionHistoryLimit: 5', 'revisionHistoryLimit: 5\n  revisionHistoryLimmit: 5');
    await assert.rejects(cp.kubectl(['apply', '--dry-run=server', '-f', '-'], manifest), /unknown field "spec.revisionHistoryLimmit"/);
  });

  test('helm install creates the CRD; a CRD upgrade needs kubectl apply --server-side --force-conflicts once', async () => {
    const kube = ['--kubeconfig', cp.kubeconfigPath];
    const install = await helm(['install', 'kmsstack-operator', chartDir, '-n', 'kmsstack-release', '--create-namespace', ...kube]);
    assert.equal(install.code, 0, install.stderr);
    assert.match(install.stdout, /STATUS: deployed/);
    assert.match(install.stdout, /No Vault server is listed in operator\.vaultAddresses/, 'the notes say that Kubernetes auth needs a listed Vault');
    await established('crd/kmsdeployments.kmsstack.io');

    // A newer chart version's CRD: the same file with one description changed.
    const dir = mkdtempSync(join(tmpdir(), 'kmsstack-crd-upgrade-'));
    try {
      const newer = readFileSync(join(repoRoot, 'crds/kmsdeployment.yaml'), 'utf8').replace('description: Whether the whole stack works.', 'description: Whether the whole stack works (newer chart).');
      writeFileSync(join(dir, 'kmsdeployment.yaml'), newer);
      // Helm created the CRD, so its fields belong to the manager "helm" until someone takes them over.
      await assert.rejects(cp.kubectl(['apply', '--server-side', '-f', dir]), /conflict with "helm"/);
      await cp.kubectl(['apply', '--server-side', '--force-conflicts', '-f', dir]);
      const served = await cp.kubectl(['get', 'crd', 'kmsdeployments.kmsstack.io', '-o', 'jsonpath={.spec.versions[0].additionalPrinterColumns[0].description}']);
      assert.equal(served.stdout, 'Whether the whole stack works (newer chart).');
      // From then on kubectl owns the fields and later upgrades need no flag.
      await cp.kubectl(['apply', '--server-side', '-f', join(repoRoot, 'crds')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const upgrade = await helm(['upgrade', 'kmsstack-operator', chartDir, '-n', 'kmsstack-release', '--set', 'operator.workers=4', ...kube]);
    assert.equal(upgrade.code, 0, upgrade.stderr);
    const uninstall = await helm(['uninstall', 'kmsstack-operator', '-n', 'kmsstack-release', ...kube]);
    assert.equal(uninstall.code, 0, uninstall.stderr);
    // Helm never deletes crds/: the CRD, and every KMSDeployment, survive an uninstall.
    await cp.kubectl(['get', 'crd', 'kmsdeployments.kmsstack.io']);
    // Removing it is a separate, deliberate step (it deletes every KMSDeployment); it also leaves a clean cluster for deploy/.
    await cp.kubectl(['delete', 'crd', 'kmsdeployments.kmsstack.io', '--wait=true']);
  });

  test('kubectl apply -k deploy/ --dry-run=server succeeds once the namespace exists', async () => {
    // A server dry run persists nothing, so the objects in kmsstack-system need the namespace first.
    await cp.kubectl(['apply', '-f', join(repoRoot, 'deploy/namespace.yaml')]);
    const { stdout, stderr } = await cp.kubectl(['apply', '-k', join(repoRoot, 'deploy'), '--dry-run=server']);
    assert.match(stdout, /customresourcedefinition\.apiextensions\.k8s\.io\/kmsdeployments\.kmsstack\.io created \(server dry run\)/);
    assert.match(stdout, /deployment\.apps\/kmsstack-operator created \(server dry run\)/);
    assert.equal(stderr.trim(), '', `warnings: ${stderr}`);
  });

  test('kubectl apply -k deploy/ installs the CRD, RBAC and the operator Deployment', async () => {
    await established('crd/kmsdeployments.kmsstack.io', ['-k', join(repoRoot, 'deploy')]);
    const { stdout } = await cp.kubectl(['get', 'deployment,serviceaccount,service,role,rolebinding', '-n', 'kmsstack-system', '-o', 'name']);
    // No controller-manager here, so no "default" ServiceAccount: what is listed is what deploy/ created.
    assert.deepEqual(stdout.trim().split('\n').sort(), [
      'deployment.apps/kmsstack-operator',
      'role.rbac.authorization.k8s.io/kmsstack-operator-leader-election',
      'rolebinding.rbac.authorization.k8s.io/kmsstack-operator-leader-election',
      'service/kmsstack-operator-metrics',
      'serviceaccount/kmsstack-operator',
    ]);
    const cluster = await cp.kubectl(['get', 'clusterrole/kmsstack-operator', 'clusterrolebinding/kmsstack-operator', '-o', 'name']);
    assert.equal(cluster.stdout.trim().split('\n').length, 2);
    const policy = await cp.kubectl(['get', 'validatingadmissionpolicy/kmsstack-operator-kv-prefix', 'validatingadmissionpolicybinding/kmsstack-operator-kv-prefix', '-o', 'name']);
    assert.equal(policy.stdout.trim().split('\n').length, 2);
    const again = await cp.kubectl(['apply', '-k', join(repoRoot, 'deploy'), '--dry-run=server']);
    assert.equal(again.stderr.trim(), '');
  });

  describe('the KMSDeployment CRD in kubectl', () => {
    before(async () => {
      await cp.kubectl(['create', 'namespace', 'storage']);
      await cp.kubectl(['apply', '-n', 'storage', '-f', join(repoRoot, 'examples/kmsdeployment-minimal.yaml')]);
      const status = {
        status: {
          observedGeneration: 1,
          conditions: [{ type: 'Ready', status: 'True', reason: 'AllConditionsTrue', message: 'the MinIO, KES and Vault chain is up', observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z' }],
          kes: { readyReplicas: 2 },
          minio: { readyReplicas: 4 },
        },
      };
      await cp.kubectl(['patch', 'kmsdeployment', 'minio-kms', '-n', 'storage', '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
    });

    test('the admission policy refuses a prefix outside kmsstack/<namespace>, naming the field (the example above is the control)', async () => {
      const outside = yaml.load(readFileSync(join(repoRoot, 'examples/kmsdeployment-minimal.yaml'), 'utf8')) as { metadata: { name: string }; spec: { vault: { kv: { prefix: string } } } };
      outside.metadata.name = 'outside';
      outside.spec.vault.kv.prefix = 'kmsstack/team-a/outside';
      // The API server loads a new policy asynchronously: retry until it is in force.
      const refusal = await waitFor('the admission policy to refuse the object', async () => {
        try {
          await cp.kubectl(['create', '-n', 'storage', '--dry-run=server', '-f', '-'], yaml.dump(outside));
          return undefined;
        } catch (err) {
          return String((err as { stderr?: string }).stderr ?? err);
        }
      }, 10_000, 200);
      assert.match(refusal, /ValidatingAdmissionPolicy 'kmsstack-operator-kv-prefix'/);
      assert.match(refusal, /spec\.vault\.kv\.prefix: "kmsstack\/team-a\/outside" is outside "kmsstack\/storage"/);
    });

    test('kubectl get kmsd shows the printer columns', async () => {
      const { stdout } = await cp.kubectl(['get', 'kmsd', '-n', 'storage']);
      const [header, row] = stdout.trim().split('\n').map((line) => line.trim().split(/\s+/));
      assert.deepEqual(header, ['NAME', 'READY', 'KES', 'MINIO', 'KEY', 'AGE']);
      assert.deepEqual(row?.slice(0, 5), ['minio-kms', 'True', '2', '4', 'minio-key-1']);
    });

    test('kubectl get kmsd -o wide adds the mode and the reason of Ready', async () => {
      const { stdout } = await cp.kubectl(['get', 'kmsd', '-n', 'storage', '-o', 'wide']);
      const [header = [], row = []] = stdout.trim().split('\n').map((line) => line.trim().split(/\s+/));
      assert.ok(header.includes('MODE') && header.includes('REASON'), header.join(' '));
      assert.equal(row[header.indexOf('REASON')], 'AllConditionsTrue');
    });

    test('the category kmsstack lists KMSDeployments', async () => {
      const { stdout } = await cp.kubectl(['get', 'kmsstack', '-n', 'storage', '-o', 'name']);
      assert.equal(stdout.trim(), 'kmsdeployment.kmsstack.io/minio-kms');
    });

    test('kubectl explain kmsd.spec.kes.keys prints the field description', async () => {
      const crd = yaml.load(readFileSync(join(repoRoot, 'crds/kmsdeployment.yaml'), 'utf8')) as {
        spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: { properties: { kes: { properties: { keys: { description: string } } } } } } } } }[] };
      };
      const description = crd.spec.versions[0]?.schema.openAPIV3Schema.properties.spec.properties.kes.properties.keys.description;
      assert.ok(description, 'the CRD has no description for spec.kes.keys');
      const { stdout } = await cp.kubectl(['explain', 'kmsd.spec.kes.keys']);
      assert.match(stdout, /GROUP:\s+kmsstack\.io/);
      assert.match(stdout, /FIELD:\s+keys <\[\]Object>/);
      assert.ok(stdout.replace(/\s+/g, ' ').includes(description.replace(/\s+/g, ' ')), `explain did not print the description:\n${stdout}`);
      assert.match(stdout, /name\s+<string> -required-/);
    });
  });
});
