// The Helm chart rendered by the real helm binary: lint, least-privilege RBAC in both watch modes,
// the restricted Deployment whose environment the operator's own config parser accepts, the
// optional objects, and values.schema.json rejecting bad values with the field named.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultKesImage, defaultMinioImage } from '../../../src/api/index.ts';
import { formats } from '../../../src/api/schema/formats.ts';
import { loadPinnedCAs, options as operatorOptions, parseConfig } from '../../../src/config.ts';
import { selfSignedCertificate } from '../../env/vault.ts';
import { OPERATOR_COMMAND } from '../../support/operator-command.ts';
import { chartDir, findObject, helm, helmTemplate, kubeVersion, releaseNamespace, renderChart, type KubeObject } from './helm.ts';

interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** Every call the operator makes outside leader election (brief of issue 10), one entry per group/resource/verb. */
const reconcilerPermissions = [
  ...['get', 'list', 'watch', 'update', 'patch'].map((verb) => `kmsstack.io/kmsdeployments/${verb}`),
  ...['get', 'update', 'patch'].map((verb) => `kmsstack.io/kmsdeployments/status/${verb}`),
  'kmsstack.io/kmsdeployments/finalizers/update',
  ...['secrets', 'configmaps', 'services', 'serviceaccounts'].flatMap((r) => ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'].map((v) => `/${r}/${v}`)),
  ...['deployments', 'statefulsets'].flatMap((r) => ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'].map((v) => `apps/${r}/${v}`)),
  // Growing MinIO's drives: read each claim, apply its new size.
  '/persistentvolumeclaims/get',
  '/persistentvolumeclaims/patch',
  // Adding a MinIO server pool: the servers of the existing pools restart together.
  '/pods/delete',
  'events.k8s.io/events/create',
  'events.k8s.io/events/patch',
  '/events/create',
  '/events/patch',
].sort();

function permissions(rules: PolicyRule[]): string[] {
  return rules
    .flatMap((rule) => rule.apiGroups.flatMap((group) => rule.resources.flatMap((resource) => rule.verbs.map((verb) => `${group}/${resource}/${verb}`))))
    .sort();
}

const rulesOf = (object: KubeObject) => object.rules as PolicyRule[];
const rbacKinds = ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];

function container(objects: KubeObject[]) {
  const deployment = findObject(objects, 'Deployment');
  const spec = deployment.spec as { replicas: number; template: { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> & { containers: Record<string, unknown>[] } } };
  const first = spec.template.spec.containers[0];
  assert.ok(first, 'the Deployment has no container');
  return { deployment: spec, pod: spec.template.spec, container: first as Record<string, unknown> & { env: { name: string; value?: string; valueFrom?: { fieldRef: { fieldPath: string } } }[] } };
}

/** The environment the kubelet would give the container, fieldRefs resolved for a pod `name` in `namespace`. */
function resolvedEnv(objects: KubeObject[], namespace: string, podName: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container(objects).container.env) {
    const field = variable.valueFrom?.fieldRef.fieldPath;
    env[variable.name] = field === 'metadata.namespace' ? namespace : field === 'metadata.name' ? podName : (variable.value ?? '');
  }
  return env;
}

/** The configuration the operator parses from the rendered Deployment's environment (pod op-0). */
function operatorConfig(objects: KubeObject[]) {
  return parseConfig({ argv: [], env: resolvedEnv(objects, releaseNamespace, 'op-0'), hostname: 'host', randomId: 'id', inClusterNamespace: undefined });
}

describe('Helm chart', () => {
  test('helm lint --strict passes with the defaults and with every optional object on', async () => {
    for (const extra of [[], ['--set', 'watchNamespaces={team-a,team-b}', '--set', 'metrics.serviceMonitor.enabled=true', '--set', 'podDisruptionBudget.enabled=true', '--set', 'replicaCount=2']]) {
      const result = await helm(['lint', '--strict', chartDir, '--kube-version', kubeVersion, ...extra]);
      assert.equal(result.code, 0, `helm lint ${extra.join(' ')}:\n${result.stdout}${result.stderr}`);
      assert.match(result.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  test('defaults: a ClusterRole with exactly the operator calls, bound to the ServiceAccount', async () => {
    const objects = await renderChart();
    const clusterRole = findObject(objects, 'ClusterRole', 'kmsstack-operator');
    assert.deepEqual(permissions(rulesOf(clusterRole)), reconcilerPermissions);
    const binding = findObject(objects, 'ClusterRoleBinding', 'kmsstack-operator');
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kmsstack-operator' });
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'kmsstack-operator', namespace: releaseNamespace }]);
    findObject(objects, 'ServiceAccount', 'kmsstack-operator', releaseNamespace);
    const roles = objects.filter((o) => o.kind === 'Role');
    assert.deepEqual(roles.map((r) => `${r.metadata.namespace}/${r.metadata.name}`), [`${releaseNamespace}/kmsstack-operator-leader-election`]);
  });

  test('watchNamespaces: one Role per namespace with the same rules, nothing cluster-wide', async () => {
    const objects = await renderChart({ watchNamespaces: ['team-a', 'team-b'] });
    assert.equal(objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding').length, 0);
    for (const namespace of ['team-a', 'team-b']) {
      const role = findObject(objects, 'Role', 'kmsstack-operator', namespace);
      assert.deepEqual(permissions(rulesOf(role)), reconcilerPermissions);
      const binding = findObject(objects, 'RoleBinding', 'kmsstack-operator', namespace);
      assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'kmsstack-operator' });
      assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'kmsstack-operator', namespace: releaseNamespace }]);
    }
    assert.equal(objects.filter((o) => o.kind === 'Role').length, 3, 'two watched namespaces and the leader election Role');
  });

  test('leader election: a Role in the release namespace for its one Lease, none without leader election', async () => {
    const objects = await renderChart({ leaderElection: { enabled: true, leaseName: 'my-lease' } });
    const role = findObject(objects, 'Role', 'kmsstack-operator-leader-election', releaseNamespace);
    assert.deepEqual(role.rules, [
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['my-lease'], verbs: ['get', 'update'] },
    ]);
    const env = resolvedEnv(objects, releaseNamespace, 'pod-1');
    assert.equal(env.KMSSTACK_LEADER_ELECTION_LEASE_NAME, 'my-lease');
    const without = await renderChart({ leaderElection: { enabled: false, leaseName: 'my-lease' } });
    assert.equal(without.filter((o) => o.metadata.name === 'kmsstack-operator-leader-election').length, 0);
  });

  test('no RBAC object uses a wildcard, and rbac.create=false renders none', async () => {
    for (const values of [{}, { watchNamespaces: ['team-a'] }]) {
      for (const object of (await renderChart(values)).filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')) {
        for (const rule of rulesOf(object)) {
          for (const field of [rule.apiGroups, rule.resources, rule.verbs, rule.resourceNames ?? []]) {
            assert.ok(!field.some((item) => item.includes('*')), `${object.kind} ${object.metadata.name} has a wildcard: ${JSON.stringify(rule)}`);
          }
        }
      }
    }
    const objects = await renderChart({ rbac: { create: false } });
    assert.equal(objects.filter((o) => rbacKinds.includes(o.kind)).length, 0);
  });

  test('the Deployment runs under the restricted Pod Security Standard with probes and resources', async () => {
    const { deployment, pod, container: operator } = container(await renderChart());
    assert.equal(deployment.replicas, 1);
    assert.deepEqual(pod.securityContext, { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    assert.deepEqual(operator.securityContext, {
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.equal(pod.serviceAccountName, 'kmsstack-operator');
    assert.equal(pod.automountServiceAccountToken, true);
    assert.deepEqual(operator.command, OPERATOR_COMMAND);
    assert.equal(operator.image, 'kmsstack-operator:0.1.0');
    assert.deepEqual(operator.ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    assert.deepEqual((operator.livenessProbe as { httpGet: unknown }).httpGet, { path: '/healthz', port: 'http' });
    assert.deepEqual((operator.readinessProbe as { httpGet: unknown }).httpGet, { path: '/readyz', port: 'http' });
    assert.deepEqual(operator.resources, { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } });
  });

  test('the operator accepts the environment the chart gives it (src/config.ts)', async () => {
    const known = new Set(operatorOptions.map((o) => o.env));
    const defaults = await renderChart();
    for (const variable of container(defaults).container.env) {
      assert.ok(known.has(variable.name) || variable.name === 'KMSSTACK_POD_NAME', `the operator does not read ${variable.name}`);
    }
    const parse = operatorConfig;

    const config = parse(defaults);
    // Field by field: what the chart's values give the operator (the rest are the operator's own defaults).
    const expected: Partial<Record<keyof typeof config, unknown>> = {
      namespaces: [], workers: 2, resyncPeriodMs: 600_000, httpBindAddress: { host: '0.0.0.0', port: 8080 }, logLevel: 'info',
      kvPrefixRule: { kind: 'template', template: 'kmsstack/{namespace}', segments: ['kmsstack', '{namespace}'] },
      vaultAddresses: [], vaultTokenPath: '/var/run/secrets/kmsstack.io/vault/token',
    };
    for (const [field, value] of Object.entries(expected)) assert.deepEqual(config[field as keyof typeof config], value, field);
    const { enabled, namespace, leaseName, identity } = config.leaderElection;
    assert.deepEqual({ enabled, namespace, leaseName, identity }, { enabled: true, namespace: releaseNamespace, leaseName: 'kmsstack-operator-leader', identity: 'op-0_id' });
    const { pod, container: operator } = container(defaults);
    const mount = (operator.volumeMounts as { name: string; mountPath: string }[]).find((m) => m.name === 'vault-token');
    assert.equal(mount?.mountPath, '/var/run/secrets/kmsstack.io/vault', 'the audience-bound token is mounted where the operator reads it');
    assert.deepEqual((pod.volumes as { name: string; projected?: unknown }[]).find((v) => v.name === 'vault-token')?.projected, {
      sources: [{ serviceAccountToken: { audience: 'vault', expirationSeconds: 600, path: 'token' } }],
    });

    const custom = parse(
      await renderChart({
        watchNamespaces: ['team-a', 'team-b'],
        operator: { workers: 5, resyncPeriod: '1m30s', logLevel: 'debug', httpPort: 9090, kvPrefixTemplate: 'vault/{namespace}/{name}', vaultAddresses: ['https://vault.vault.svc:8200', 'https://vault-dr.vault.svc:8200'], vaultTokenAudience: '' },
      }),
    );
    assert.deepEqual(custom.namespaces, ['team-a', 'team-b']);
    assert.equal(custom.workers, 5);
    assert.equal(custom.resyncPeriodMs, 90_000);
    assert.equal(custom.logLevel, 'debug');
    assert.deepEqual(custom.vaultAddresses, ['https://vault.vault.svc:8200', 'https://vault-dr.vault.svc:8200']);
    assert.equal(custom.vaultTokenPath, '/var/run/secrets/kubernetes.io/serviceaccount/token', 'without an audience the pod\'s API token is sent');
    assert.deepEqual(custom.kvPrefixRule, { kind: 'template', template: 'vault/{namespace}/{name}', segments: ['vault', '{namespace}', '{name}'] });
    assert.deepEqual(custom.httpBindAddress, { host: '0.0.0.0', port: 9090 });
  });

  test('pinned Vault CAs: a ConfigMap mounted where --vault-ca-files points, read by the operator; a change rolls the pods', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chart-ca-'));
    try {
      const pem = readFileSync(selfSignedCertificate(dir).cert, 'utf8');
      const values = { operator: { vaultAddresses: ['https://vault.vault.svc:8200', '*'], vaultCAs: [{ address: 'https://vault.vault.svc:8200/', pem }] } };
      const objects = await renderChart(values);
      const env = resolvedEnv(objects, releaseNamespace, 'op-0');
      const config = parseConfig({ argv: [], env, hostname: 'host', randomId: 'id', inClusterNamespace: undefined });
      assert.deepEqual(config.vaultAddresses, ['https://vault.vault.svc:8200', '*']);
      assert.deepEqual(config.vaultCAFiles, [{ address: 'https://vault.vault.svc:8200', path: '/etc/kmsstack/vault-ca/ca-0.pem' }]);
      const configMap = findObject(objects, 'ConfigMap', 'kmsstack-operator-vault-ca', releaseNamespace);
      const stored = (configMap.data as Record<string, string>)['ca-0.pem'] ?? '';
      writeFileSync(join(dir, 'ca-0.pem'), stored);
      assert.equal(loadPinnedCAs({ vaultCAFiles: [{ address: 'https://vault.vault.svc:8200', path: join(dir, 'ca-0.pem') }] }).get('https://vault.vault.svc:8200')?.trim(), pem.trim());
      const { pod, container: operator } = container(objects);
      assert.deepEqual((operator.volumeMounts as { name: string; mountPath: string }[]).find((m) => m.name === 'vault-ca'), { name: 'vault-ca', mountPath: '/etc/kmsstack/vault-ca', readOnly: true });
      assert.deepEqual((pod.volumes as { name: string }[]).find((v) => v.name === 'vault-ca'), { name: 'vault-ca', configMap: { name: 'kmsstack-operator-vault-ca' } });
      const checksum = (objects: KubeObject[]) => (container(objects).deployment.template.metadata as { annotations?: Record<string, string> }).annotations?.['kmsstack.io/vault-ca-checksum'];
      assert.match(checksum(objects) ?? '', /^[0-9a-f]{64}$/);
      const other = readFileSync(selfSignedCertificate(mkdtempSync(join(dir, 'b-'))).cert, 'utf8');
      assert.notEqual(checksum(await renderChart({ operator: { ...values.operator, vaultCAs: [{ address: 'https://vault.vault.svc:8200', pem: other }] } })), checksum(objects));
      const defaults = await renderChart();
      assert.equal(defaults.filter((o) => o.kind === 'ConfigMap' && o.metadata.name === 'kmsstack-operator-vault-ca').length, 0, 'no ConfigMap without pinned CAs');
      assert.equal(resolvedEnv(defaults, releaseNamespace, 'op-0')['KMSSTACK_VAULT_CA_FILES'], undefined);
      const unlisted = await helmTemplate({ operator: { vaultAddresses: ['https://vault.vault.svc:8200'], vaultCAs: [{ address: 'https://other:8200', pem }] } });
      assert.notEqual(unlisted.code, 0);
      assert.match(unlisted.stderr, /operator\.vaultCAs: https:\/\/other:8200 is not in operator\.vaultAddresses/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('operator.defaultImages: empty leaves the built-in images, set ones reach the operator, with the pattern of spec.kes.image', async () => {
    const parse = (objects: KubeObject[]) => operatorConfig(objects).defaultImages;
    assert.deepEqual(parse(await renderChart()), { kesImage: defaultKesImage, minioImage: defaultMinioImage });
    const mirror = { kes: 'registry.corp:5000/mirror/kes:2025-03-12T09-35-18Z', minio: `registry.corp:5000/fork/minio@sha256:${'b'.repeat(64)}` };
    assert.deepEqual(parse(await renderChart({ operator: { defaultImages: mirror } })), { kesImage: mirror.kes, minioImage: mirror.minio });
    assert.deepEqual(parse(await renderChart({ operator: { defaultImages: { minio: mirror.minio } } })), { kesImage: defaultKesImage, minioImage: mirror.minio });
    const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as { definitions: { imageOrEmpty: { anyOf: { pattern?: string }[] } } };
    assert.equal(schema.definitions.imageOrEmpty.anyOf[1]?.pattern, formats.image.pattern, 'the chart checks images as the CRD does');
  });

  test('image digest, extra env, scheduling and a platform-assigned UID', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const objects = await renderChart({
      image: { repository: 'registry.example.com:5000/ops/kmsstack-operator', digest },
      operator: { extraEnv: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=384' }] },
      securityContext: { runAsUser: null, runAsGroup: null },
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      imagePullSecrets: [{ name: 'regcred' }],
    });
    const { pod, container: operator } = container(objects);
    assert.equal(operator.image, `registry.example.com:5000/ops/kmsstack-operator@${digest}`);
    assert.ok(operator.env.some((v) => v.name === 'NODE_OPTIONS' && v.value === '--max-old-space-size=384'));
    assert.deepEqual(pod.securityContext, { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    assert.deepEqual(pod.nodeSelector, { 'kubernetes.io/os': 'linux' });
    assert.deepEqual(pod.imagePullSecrets, [{ name: 'regcred' }]);
  });

  test('metrics Service selects the operator pods; ServiceMonitor and PodDisruptionBudget are opt-in', async () => {
    const defaults = await renderChart();
    const service = findObject(defaults, 'Service', 'kmsstack-operator-metrics', releaseNamespace);
    const spec = service.spec as { selector: Record<string, string>; ports: unknown[] };
    const podLabels = container(defaults).deployment.template.metadata.labels;
    for (const [key, value] of Object.entries(spec.selector)) assert.equal(podLabels[key], value, `pod label ${key}`);
    assert.deepEqual(spec.ports, [{ name: 'metrics', port: 8080, targetPort: 'http', protocol: 'TCP' }]);
    assert.equal(defaults.filter((o) => o.kind === 'ServiceMonitor' || o.kind === 'PodDisruptionBudget').length, 0);

    const all = await renderChart({
      replicaCount: 2,
      metrics: { serviceMonitor: { enabled: true, interval: '15s', scrapeTimeout: '5s', labels: { release: 'prom' } } },
      podDisruptionBudget: { enabled: true },
    });
    const monitor = findObject(all, 'ServiceMonitor', 'kmsstack-operator', releaseNamespace);
    assert.equal(monitor.metadata.labels?.release, 'prom');
    assert.deepEqual((monitor.spec as { endpoints: unknown }).endpoints, [{ port: 'metrics', path: '/metrics', interval: '15s', scrapeTimeout: '5s' }]);
    const pdb = findObject(all, 'PodDisruptionBudget', 'kmsstack-operator', releaseNamespace);
    assert.equal((pdb.spec as { maxUnavailable?: number }).maxUnavailable, 1);
    const minAvailable = findObject(await renderChart({ replicaCount: 3, podDisruptionBudget: { enabled: true, minAvailable: 2 } }), 'PodDisruptionBudget');
    assert.deepEqual(Object.keys(minAvailable.spec as object).sort(), ['minAvailable', 'selector']);
  });

  test('/metrics: an opt-in NetworkPolicy admits only the listed peers; bindAddress moves it off the probe port', async () => {
    assert.equal((await renderChart()).filter((o) => o.kind === 'NetworkPolicy').length, 0);
    const prometheus = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } };
    const open = await renderChart({ metrics: { networkPolicy: { enabled: true, from: [prometheus] } } });
    const policy = findObject(open, 'NetworkPolicy', 'kmsstack-operator-metrics', releaseNamespace);
    const spec = policy.spec as { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; ingress: unknown[] };
    const podLabels = container(open).deployment.template.metadata.labels;
    for (const [key, value] of Object.entries(spec.podSelector.matchLabels)) assert.equal(podLabels[key], value, `pod label ${key}`);
    assert.deepEqual(spec.policyTypes, ['Ingress']);
    assert.deepEqual(spec.ingress, [{ from: [prometheus], ports: [{ port: 'http', protocol: 'TCP' }] }]);
    const closed = findObject(await renderChart({ metrics: { networkPolicy: { enabled: true } } }), 'NetworkPolicy');
    assert.deepEqual((closed.spec as { ingress: unknown[] }).ingress, [], 'no peers listed: nothing but the node gets in (an empty from would admit everyone)');

    const moved = await renderChart({ metrics: { bindAddress: '127.0.0.1:8443' } });
    assert.deepEqual(parseConfig({ argv: [], env: resolvedEnv(moved, releaseNamespace, 'op-0'), hostname: 'h', randomId: 'id', inClusterNamespace: undefined }).metricsBindAddress, { host: '127.0.0.1', port: 8443 });
    assert.equal(container(await renderChart()).container.env.some((v) => v.name === 'KMSSTACK_METRICS_BIND_ADDRESS'), false, 'default: served with the probes');
  });

  const badValues: [string, unknown, RegExp][] = [
    ['watchNamespaces as a string', { watchNamespaces: 'team-a' }, /\/watchNamespaces.*want array/],
    ['a namespace that is not a DNS label', { watchNamespaces: ['Team_A'] }, /\/watchNamespaces\/0/],
    ['replicaCount 0', { replicaCount: 0 }, /\/replicaCount/],
    ['an unknown log level', { operator: { logLevel: 'loud' } }, /\/operator\/logLevel/],
    ['a resync period without a unit', { operator: { resyncPeriod: '600' } }, /\/operator\/resyncPeriod/],
    ['a privileged port', { operator: { httpPort: 80 } }, /\/operator\/httpPort/],
    ['a misspelled key', { replicas: 2 }, /additional properties 'replicas' not allowed/],
    ['a tag in image.repository', { image: { repository: 'kmsstack-operator:1.0', pullPolicy: 'Always' } }, /\/image\/repository/],
    ['a bad digest', { image: { digest: 'sha256:abc' } }, /\/image\/digest/],
    ['root as the user', { securityContext: { runAsUser: 0 } }, /\/securityContext\/runAsUser/],
    ['leader election switched off as a string', { leaderElection: { enabled: 'no' } }, /\/leaderElection\/enabled/],
    ['a KV prefix template without {namespace}', { operator: { kvPrefixTemplate: 'minio' } }, /\/operator\/kvPrefixTemplate/],
    ['a Vault address without a scheme', { operator: { vaultAddresses: ['vault:8200'] } }, /\/operator\/vaultAddresses\/0/],
    ['a pinned CA for an http address', { operator: { vaultAddresses: ['http://v:8200'], vaultCAs: [{ address: 'http://v:8200', pem: '-----BEGIN CERTIFICATE-----' }] } }, /\/operator\/vaultCAs\/0\/address/],
    ['a pinned CA that is not PEM', { operator: { vaultAddresses: ['https://v:8200'], vaultCAs: [{ address: 'https://v:8200', pem: 'MIIB...' }] } }, /\/operator\/vaultCAs\/0\/pem/],
    ['a placeholder inside a segment', { operator: { kvPrefixTemplate: 'kv/ns-{namespace}' } }, /\/operator\/kvPrefixTemplate/],
    ['a metrics bind address without a port', { metrics: { bindAddress: 'localhost' } }, /\/metrics\/bindAddress/],
    ['a PDB percentage without %', { podDisruptionBudget: { enabled: true, maxUnavailable: '50' } }, /\/podDisruptionBudget\/maxUnavailable/],
    ['a default KES image that is no image reference', { operator: { defaultImages: { kes: 'Registry/KES:latest' } } }, /\/operator\/defaultImages\/kes/],
    ['a misspelled default image key', { operator: { defaultImages: { minIO: 'quay.io/minio/minio:x' } } }, /additional properties 'minIO' not allowed/],
  ];
  for (const [what, values, field] of badValues) {
    test(`values.schema.json rejects ${what}, naming the field`, async () => {
      const result = await helmTemplate(values);
      assert.notEqual(result.code, 0, `helm template accepted ${JSON.stringify(values)}`);
      assert.match(result.stderr, /values don't meet the specifications of the schema/);
      assert.match(result.stderr, field);
    });
  }

  test('template checks: several replicas need leader election, a ServiceMonitor needs the Service', async () => {
    const replicas = await helmTemplate({ replicaCount: 2, leaderElection: { enabled: false, leaseName: 'x' } });
    assert.notEqual(replicas.code, 0);
    assert.match(replicas.stderr, /leaderElection\.enabled: must be true when replicaCount > 1/);
    const monitor = await helmTemplate({ metrics: { service: { enabled: false, port: 8080 }, serviceMonitor: { enabled: true, interval: '30s', scrapeTimeout: '10s' } } });
    assert.notEqual(monitor.code, 0);
    assert.match(monitor.stderr, /metrics\.serviceMonitor\.enabled: needs metrics\.service\.enabled/);
  });
});
