import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildKesConfigSecret, buildKesDeployment, buildKesService, buildKesServiceAccount, readinessFailureThreshold } from '../../../src/kes/deployment.ts';
import { checksumOf } from '../../../src/workload/checksum.ts';
import { assertGolden } from '../../support/golden.ts';
import { ref, vaultSpec } from './fixtures.ts';

const checksums = { configChecksum: checksumOf(['config', 'tls']), appRoleChecksum: 'a'.repeat(64) };

describe('KES workload objects', () => {
  it('builds the Deployment, Service and config Secret (golden)', () => {
    const spec = vaultSpec({
      extra: {
        kes: {
          keys: [{ name: 'minio-key-1' }],
          replicas: 3,
          resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'kms', effect: 'NoSchedule' }],
          imagePullSecrets: [{ name: 'registry' }],
          podAnnotations: { 'example.com/team': 'storage', 'kmsstack.io/config-checksum': 'user-value-loses' },
          metrics: { enabled: true },
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'kes' } } } },
              ],
            },
          },
        },
      },
    });
    assertGolden('kes/deployment.yaml', buildKesDeployment({ deployment: ref, spec, ...checksums }));
    assertGolden('kes/service.yaml', buildKesService(ref, vaultSpec()));
    assertGolden('kes/config-secret.yaml', buildKesConfigSecret(ref, 'version: v1\n'));
  });

  it('with kesAuth Kubernetes runs as its own ServiceAccount with a projected, audience-bound, expiring Vault token and no AppRole env (golden)', () => {
    const spec = vaultSpec({
      extra: {
        vault: {
          address: 'https://vault.vault.svc:8200', auth: { kubernetes: { role: 'kmsstack' } }, kv: { prefix: 'minio/tenant-a' },
          kesAuth: 'Kubernetes', kesKubernetes: { audience: 'vault-kes', tokenExpiration: '2h' },
        },
      },
    });
    const deployment = buildKesDeployment({ deployment: ref, spec, ...checksums });
    assertGolden('kes/deployment-kubernetes-auth.yaml', deployment);
    const pod = deployment.spec?.template.spec;
    assert.equal(pod?.serviceAccountName, 'tenant-a-kes');
    assert.equal(pod?.automountServiceAccountToken, false, 'no Kubernetes API token in the pod');
    const projected = pod?.volumes?.find((v) => v.name === 'vault-token')?.projected?.sources?.[0]?.serviceAccountToken;
    assert.deepEqual(projected, { audience: 'vault-kes', expirationSeconds: 7200, path: 'token' });
    assert.deepEqual(pod?.containers[0]?.env ?? [], [], 'no role-id or secret-id');
    const account = buildKesServiceAccount(ref);
    assert.equal(account.metadata?.name, 'tenant-a-kes');
    assert.equal(account.automountServiceAccountToken, false);
    // AppRole mode keeps the namespace's ServiceAccount (or the user's) and the env from the Secret.
    const appRole = buildKesDeployment({ deployment: ref, spec: vaultSpec(), ...checksums }).spec?.template.spec;
    assert.equal(appRole?.serviceAccountName, undefined);
    assert.equal(appRole?.volumes?.some((v) => v.name === 'vault-token'), false);
  });

  it('mounts the Vault CA only when the spec names one, and leaves unset pod settings out', () => {
    const spec = vaultSpec();
    delete spec.vault?.tls;
    const pod = buildKesDeployment({ deployment: ref, spec, ...checksums }).spec?.template.spec;
    assert.deepEqual(pod?.volumes?.map((v) => v.name), ['config', 'tls']);
    for (const field of ['affinity', 'tolerations', 'nodeSelector', 'imagePullSecrets'] as const) assert.equal(field in (pod ?? {}), false, field);
    assert.equal('resources' in (pod?.containers[0] ?? {}), false);
  });

  it('takes the AppRole credentials only from the AppRole Secret, never as values', () => {
    const env = buildKesDeployment({ deployment: ref, spec: vaultSpec(), ...checksums }).spec?.template.spec?.containers[0]?.env ?? [];
    assert.deepEqual(env, [
      { name: 'KES_VAULT_ROLE_ID', valueFrom: { secretKeyRef: { name: 'tenant-a-kes-vault-approle', key: 'role-id' } } },
      { name: 'KES_VAULT_SECRET_ID', valueFrom: { secretKeyRef: { name: 'tenant-a-kes-vault-approle', key: 'secret-id' } } },
    ]);
  });

  it('puts both checksums on the pod template so a changed config or secret-id rolls KES', () => {
    const annotations = buildKesDeployment({ deployment: ref, spec: vaultSpec(), ...checksums }).spec?.template.metadata?.annotations;
    assert.equal(annotations?.['kmsstack.io/config-checksum'], checksums.configChecksum);
    assert.equal(annotations?.['kmsstack.io/vault-approle-checksum'], checksums.appRoleChecksum);
  });

  it('checksums are order- and boundary-sensitive', () => {
    assert.notEqual(checksumOf(['ab', 'c']), checksumOf(['a', 'bc']));
    assert.notEqual(checksumOf(['a', 'b']), checksumOf(['b', 'a']));
    assert.equal(checksumOf(['a', 'b']), checksumOf(['a', 'b']));
  });

  it('refuses to build KES in StaticKey mode', () => {
    const spec = { ...vaultSpec(), mode: 'StaticKey' as const };
    assert.throws(() => buildKesDeployment({ deployment: ref, spec, ...checksums }), /KES runs only in Vault mode/);
  });

  it('keeps a ready KES in its Service through a Vault outage as long as its cache may hold keys (spec.kes.cache.expiry)', () => {
    assert.equal(readinessFailureThreshold({ any: '5m' }), 30, 'the default: 30 probes of 10 s');
    assert.equal(readinessFailureThreshold({ any: '5m', offline: '1h' }), 360, 'the offline cache when longer');
    assert.equal(readinessFailureThreshold({ any: '95s', offline: '1m' }), 10, 'rounded up');
    assert.equal(readinessFailureThreshold({ any: '5s' }), 3, 'never fewer than the usual 3');
  });
});
