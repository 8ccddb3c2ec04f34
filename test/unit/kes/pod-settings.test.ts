// Pod settings of spec.kes and spec.minio (security contexts without a fixed UID, env, labels,
// spread, priority, ServiceAccount, Service type): built into the workloads alike (golden), with
// the operator's own values winning where they carry meaning.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyDefaults, validateKMSDeployment, type KMSDeploymentSpec } from '../../../src/api/index.ts';
import { buildKesDeployment, buildKesService } from '../../../src/kes/deployment.ts';
import { checksumOf } from '../../../src/workload/checksum.ts';
import { withUserEnv } from '../../../src/workload/pod-settings.ts';
import { buildMinioService } from '../../../src/minio/services.ts';
import { buildMinioStatefulSet } from '../../../src/minio/statefulset.ts';
import { assertGolden } from '../../support/golden.ts';
import { loadManifests } from '../../support/manifests.ts';
import { ref } from './fixtures.ts';

const [full] = loadManifests('examples/kmsdeployment-full.yaml');
const spec = applyDefaults(full?.spec as KMSDeploymentSpec);

describe('pod settings', () => {
  it('builds KES and MinIO with the full example’s settings (golden)', () => {
    assertGolden('kes/deployment-pod-settings.yaml', buildKesDeployment({ deployment: ref, spec, configChecksum: checksumOf(['c']), appRoleChecksum: 'a'.repeat(64) }));
    assertGolden('kes/service-pod-settings.yaml', buildKesService(ref, spec));
    assertGolden('minio/statefulset-pod-settings.yaml', buildMinioStatefulSet({ deployment: ref, spec, configChecksum: checksumOf(['c']) }));
    assertGolden('minio/service-pod-settings.yaml', buildMinioService(ref, spec));
  });

  it('leaves the UID to the platform when the security contexts are given, and keeps the selector labels', () => {
    const pod = buildMinioStatefulSet({ deployment: ref, spec, configChecksum: 'c' }).spec?.template;
    assert.deepEqual(pod?.spec?.securityContext, { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    assert.equal(pod?.spec?.containers[0]?.securityContext?.runAsUser, undefined);
    assert.equal(pod?.metadata?.labels?.['example.com/team'], 'storage');
    assert.equal(pod?.metadata?.labels?.['app.kubernetes.io/name'], 'minio');
    assert.equal(pod?.spec?.automountServiceAccountToken, false, 'a ServiceAccount name mounts no token');
  });

  it("appends the user's env after the operator's and never lets it replace one", () => {
    const own = [{ name: 'MINIO_KMS_KES_KEY_NAME', value: 'minio-key-1' }];
    assert.deepEqual(withUserEnv(own, [{ name: 'TZ', value: 'UTC' }, { name: 'MINIO_KMS_KES_KEY_NAME', value: 'evil' }]), [...own, { name: 'TZ', value: 'UTC' }]);
  });

  it('refuses env the operator sets and labels its selectors use, naming the field', () => {
    const object = (extra: Record<string, unknown>) => ({
      apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment', metadata: { name: 'x', namespace: 'storage' },
      spec: { ...structuredClone(full?.spec as Record<string, unknown>), ...extra },
    });
    const minio = (full?.spec as Record<string, unknown>)['minio'] as Record<string, unknown>;
    const kes = (full?.spec as Record<string, unknown>)['kes'] as Record<string, unknown>;
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ minio: { ...minio, env: [{ name: 'MINIO_KMS_KES_KEY_NAME', value: 'other' }] } }, /spec\.minio\.env: .*the operator sets these/],
      [{ minio: { ...minio, env: [{ name: 'MINIO_ROOT_PASSWORD', value: 'x' }] } }, /spec\.minio\.env/],
      [{ minio: { ...minio, env: [{ name: 'MINIO_PROMETHEUS_AUTH_TYPE', value: 'public' }] } }, /spec\.minio\.env/], // spec.minio.metrics.auth
      [{ kes: { ...kes, env: [{ name: 'KES_VAULT_SECRET_ID', value: 'x' }] } }, /spec\.kes\.env/],
      [{ kes: { ...kes, podLabels: { 'app.kubernetes.io/name': 'minio' } } }, /spec\.kes\.podLabels: .*app\.kubernetes\.io/],
      [{ minio: { ...minio, service: { type: 'ExternalName' } } }, /spec\.minio\.service\.type/],
    ];
    for (const [extra, message] of cases) {
      const errors = validateKMSDeployment(object(extra));
      assert.match(errors.map((e) => `${e.path}: ${e.message}`).join('\n'), message);
    }
  });
});
