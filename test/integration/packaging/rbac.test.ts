// The chart's RBAC, and nothing else, applied to a real API server; then the operator's requests made
// with its ServiceAccount's token. Every call the operator needs must be allowed; Secrets of a namespace
// it does not watch, Leases outside its own namespace and verbs it does not use must be refused.
// OwnerReferencesPermissionEnforcement is on (as on OpenShift), so the kmsdeployments/finalizers rule
// is exercised by creating children with blockOwnerDeletion.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as yaml from 'js-yaml';
import { startControlPlane, type ControlPlane } from '../../env/controlplane.ts';
import { renderChart, repoRoot, type KubeObject } from '../../unit/packaging/helm.ts';
import { apiCaller, type ApiAnswer, type ApiCaller } from '../../support/api-caller.ts';

const rbacKinds = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
const leaseName = 'kmsstack-operator-leader';
const kmsd = (ns: string) => `/apis/kmsstack.io/v1alpha1/namespaces/${ns}/kmsdeployments`;
let cp: ControlPlane;

before(async () => {
  cp = await startControlPlane({ apiServerFlags: ['--enable-admission-plugins=OwnerReferencesPermissionEnforcement'] });
  for (const ns of ['kmsstack-system', 'kmsstack-all', 'team-a', 'team-b', 'team-c']) await cp.kubectl(['create', 'namespace', ns]);
  const example = readFileSync(join(repoRoot, 'examples/kmsdeployment-minimal.yaml'), 'utf8');
  for (const ns of ['team-a', 'team-b', 'team-c']) await cp.kubectl(['apply', '-n', ns, '-f', '-'], example);
  await cp.kubectl(['create', 'secret', 'generic', 'vault-token', '-n', 'team-c', '--from-literal=token=not-a-real-token']);
});
after(async () => {
  await cp?.stop();
});

/** Applies only the chart's ServiceAccount and RBAC objects as admin, and returns a caller with the account's token. */
async function operatorAs(values: unknown, namespace: string): Promise<ApiCaller> {
  const objects = (await renderChart(values, namespace)).filter((o: KubeObject) => rbacKinds.has(o.kind));
  await cp.kubectl(['apply', '-f', '-'], objects.map((o) => `---\n${yaml.dump(o)}`).join(''));
  const token = await cp.mintServiceAccountToken(namespace, 'kmsstack-operator');
  return apiCaller(cp.server, cp.caPem, token);
}

function allowed(answer: ApiAnswer, what: string): ApiAnswer {
  assert.ok(answer.status >= 200 && answer.status < 300, `${what}: HTTP ${answer.status} ${answer.body.slice(0, 300)}`);
  return answer;
}

function forbidden(answer: ApiAnswer, what: string): void {
  assert.equal(answer.status, 403, `${what} should be forbidden: HTTP ${answer.status} ${answer.body.slice(0, 300)}`);
}

const workloadSpec = (name: string) => ({
  selector: { matchLabels: { app: name } },
  template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'registry.example/c:1' }] } },
});

/** The child kinds the operator owns: collection path and a body for a new object named `name`. */
function children(ns: string): [string, string, (name: string) => Record<string, unknown>][] {
  return [
    ['Secret', `/api/v1/namespaces/${ns}/secrets`, () => ({ apiVersion: 'v1', kind: 'Secret', stringData: { k: 'v' } })],
    ['ConfigMap', `/api/v1/namespaces/${ns}/configmaps`, () => ({ apiVersion: 'v1', kind: 'ConfigMap', data: { k: 'v' } })],
    ['Service', `/api/v1/namespaces/${ns}/services`, () => ({ apiVersion: 'v1', kind: 'Service', spec: { ports: [{ port: 7373 }] } })],
    ['Deployment', `/apis/apps/v1/namespaces/${ns}/deployments`, (name) => ({ apiVersion: 'apps/v1', kind: 'Deployment', spec: workloadSpec(name) })],
    ['StatefulSet', `/apis/apps/v1/namespaces/${ns}/statefulsets`, (name) => ({ apiVersion: 'apps/v1', kind: 'StatefulSet', spec: { ...workloadSpec(name), serviceName: name } })],
  ];
}

/** Every request of one reconcile of minio-kms in `ns`, as the operator makes them. */
async function reconcilerCalls(call: ApiCaller, ns: string): Promise<void> {
  allowed(await call('GET', kmsd(ns)), 'list kmsdeployments');
  allowed(await call('GET', `${kmsd(ns)}?watch=1&timeoutSeconds=1`), 'watch kmsdeployments');
  const owner = allowed(await call('GET', `${kmsd(ns)}/minio-kms`), 'get kmsdeployment').json<KubeObject & { metadata: { uid: string } }>();
  const withFinalizer = { ...owner, metadata: { ...owner.metadata, finalizers: ['kmsstack.io/cleanup'] } };
  allowed(await call('PUT', `${kmsd(ns)}/minio-kms`, withFinalizer), 'update kmsdeployment (finalizer)');
  allowed(await call('PATCH', `${kmsd(ns)}/minio-kms`, { metadata: { annotations: { 'kmsstack.io/probe': '1' } } }, 'application/merge-patch+json'), 'patch kmsdeployment');
  const current = allowed(await call('GET', `${kmsd(ns)}/minio-kms/status`), 'get status').json<KubeObject>();
  allowed(await call('PUT', `${kmsd(ns)}/minio-kms/status`, { ...current, status: { observedGeneration: 1 } }), 'update status');
  allowed(await call('PATCH', `${kmsd(ns)}/minio-kms/status`, { status: { observedGeneration: 1 } }, 'application/merge-patch+json'), 'patch status');

  const ownerReferences = [{ apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment', name: 'minio-kms', uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true }];
  for (const [kind, collection, body] of children(ns)) {
    const name = `minio-kms-${kind.toLowerCase()}`;
    const object = { ...body(name), metadata: { name, ownerReferences } };
    allowed(await call('POST', collection, object), `create ${kind} owned by the KMSDeployment`);
    allowed(await call('GET', collection), `list ${kind}`);
    allowed(await call('GET', `${collection}?watch=1&timeoutSeconds=1`), `watch ${kind}`);
    const created = allowed(await call('GET', `${collection}/${name}`), `get ${kind}`).json<KubeObject>();
    allowed(await call('PUT', `${collection}/${name}`, { ...created, metadata: { ...created.metadata, labels: { updated: 'true' } } }), `update ${kind}`);
    allowed(await call('PATCH', `${collection}/${name}?fieldManager=kmsstack-operator&force=true`, object, 'application/apply-patch+yaml'), `server-side apply ${kind}`);
    allowed(await call('DELETE', `${collection}/${name}`), `delete ${kind}`);
  }

  const regarding = { apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment', name: 'minio-kms', namespace: ns, uid: owner.metadata.uid };
  const event = {
    metadata: { name: 'minio-kms.probe' }, eventTime: '2026-01-01T00:00:00.000000Z', reportingController: 'kmsstack.io/operator',
    reportingInstance: 'kmsstack-operator-0', action: 'Reconcile', reason: 'Probe', type: 'Normal', note: 'probe', regarding,
  };
  allowed(await call('POST', `/apis/events.k8s.io/v1/namespaces/${ns}/events`, event), 'create events.k8s.io event');
  allowed(await call('PATCH', `/apis/events.k8s.io/v1/namespaces/${ns}/events/minio-kms.probe`, { series: { count: 2, lastObservedTime: '2026-01-01T00:01:00.000000Z' } }, 'application/merge-patch+json'), 'patch events.k8s.io event');
  const coreEvent = { metadata: { name: 'minio-kms.core' }, involvedObject: regarding, reason: 'Probe', message: 'probe', type: 'Normal', count: 1, source: { component: 'kmsstack-operator' } };
  allowed(await call('POST', `/api/v1/namespaces/${ns}/events`, coreEvent), 'create core event');
  allowed(await call('PATCH', `/api/v1/namespaces/${ns}/events/minio-kms.core`, { count: 2 }, 'application/merge-patch+json'), 'patch core event');
}

/** Leader election: create, get and update its one Lease in its own namespace. */
async function leaderElectionCalls(call: ApiCaller, ns: string): Promise<void> {
  const leases = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`;
  const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: leaseName }, spec: { holderIdentity: 'op-0', leaseDurationSeconds: 15 } };
  allowed(await call('POST', leases, lease), 'create Lease');
  const current = allowed(await call('GET', `${leases}/${leaseName}`), 'get Lease').json<KubeObject>();
  allowed(await call('PUT', `${leases}/${leaseName}`, { ...current, spec: { holderIdentity: 'op-1', leaseDurationSeconds: 15 } }), 'update Lease');
}

describe('chart RBAC with a real ServiceAccount token', () => {
  describe('watchNamespaces [team-a, team-b]: namespaced Roles', () => {
    let call: ApiCaller;
    before(async () => {
      call = await operatorAs({ watchNamespaces: ['team-a', 'team-b'] }, 'kmsstack-system');
    });

    test('every call of a reconcile is allowed in each watched namespace', async () => {
      await reconcilerCalls(call, 'team-a');
      await reconcilerCalls(call, 'team-b');
    });

    test('leader election works in the operator namespace', async () => {
      await leaderElectionCalls(call, 'kmsstack-system');
    });

    test('Secrets of a namespace it does not watch cannot be read', async () => {
      forbidden(await call('GET', '/api/v1/namespaces/team-c/secrets/vault-token'), 'get a Secret in team-c');
      forbidden(await call('GET', '/api/v1/namespaces/team-c/secrets'), 'list Secrets in team-c');
      forbidden(await call('GET', '/api/v1/namespaces/team-c/secrets?watch=1&timeoutSeconds=1'), 'watch Secrets in team-c');
      forbidden(await call('GET', '/api/v1/secrets'), 'list Secrets in all namespaces');
      forbidden(await call('GET', '/api/v1/namespaces/kmsstack-system/secrets'), 'list Secrets in its own (unwatched) namespace');
    });

    test('nothing outside the watched namespaces, and no verb it does not use', async () => {
      forbidden(await call('GET', kmsd('team-c')), 'list kmsdeployments in team-c');
      forbidden(await call('GET', '/apis/kmsstack.io/v1alpha1/kmsdeployments'), 'list kmsdeployments in all namespaces');
      forbidden(await call('DELETE', `${kmsd('team-a')}/minio-kms`), 'delete a KMSDeployment');
      forbidden(await call('POST', kmsd('team-a'), { apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment', metadata: { name: 'x' }, spec: {} }), 'create a KMSDeployment');
      forbidden(await call('GET', '/api/v1/namespaces/team-a/pods'), 'list Pods');
      forbidden(await call('DELETE', '/api/v1/namespaces/team-a/events/minio-kms.core'), 'delete an Event');
      forbidden(await call('GET', '/api/v1/namespaces'), 'list Namespaces');
      forbidden(await call('POST', '/apis/coordination.k8s.io/v1/namespaces/team-a/leases', { metadata: { name: leaseName }, spec: {} }), 'create a Lease in a watched namespace');
      forbidden(await call('GET', '/apis/coordination.k8s.io/v1/namespaces/kmsstack-system/leases/some-other-lease'), 'get another Lease');
      forbidden(await call('GET', '/apis/coordination.k8s.io/v1/namespaces/kmsstack-system/leases'), 'list Leases');
    });

    test('control: the chart\'s rules without the finalizers rule cannot set blockOwnerDeletion', async () => {
      const chartRole = (await renderChart({ watchNamespaces: ['team-a'] }, 'kmsstack-system')).find((o) => o.kind === 'Role' && o.metadata.namespace === 'team-a');
      const rules = (chartRole?.rules as { resources: string[] }[]).filter((rule) => !rule.resources.includes('kmsdeployments/finalizers'));
      assert.equal(rules.length, (chartRole?.rules as unknown[]).length - 1);
      const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'no-finalizers', namespace: 'team-a' }, rules };
      const binding = {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'no-finalizers', namespace: 'team-a' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'no-finalizers' },
        subjects: [{ kind: 'ServiceAccount', name: 'control', namespace: 'team-a' }],
      };
      await cp.kubectl(['apply', '-f', '-'], `${yaml.dump(role)}---\n${yaml.dump(binding)}`);
      const control = apiCaller(cp.server, cp.caPem, await cp.mintServiceAccountToken('team-a', 'control'));
      const owner = allowed(await control('GET', `${kmsd('team-a')}/minio-kms`), 'get').json<{ metadata: { uid: string } }>();
      const secret = {
        apiVersion: 'v1', kind: 'Secret',
        metadata: { name: 'control', ownerReferences: [{ apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment', name: 'minio-kms', uid: owner.metadata.uid, blockOwnerDeletion: true }] },
      };
      const answer = await control('POST', '/api/v1/namespaces/team-a/secrets', secret);
      forbidden(answer, 'blockOwnerDeletion without the finalizers rule');
      assert.match(answer.body, /cannot set blockOwnerDeletion/);
    });
  });

  describe('watchNamespaces empty: a ClusterRole', () => {
    let call: ApiCaller;
    before(async () => {
      call = await operatorAs({}, 'kmsstack-all');
    });

    test('every call of a reconcile is allowed in any namespace, and across all of them', async () => {
      await reconcilerCalls(call, 'team-c');
      allowed(await call('GET', '/apis/kmsstack.io/v1alpha1/kmsdeployments?watch=1&timeoutSeconds=1'), 'watch kmsdeployments in all namespaces');
      allowed(await call('GET', '/api/v1/secrets'), 'list Secrets in all namespaces');
      await leaderElectionCalls(call, 'kmsstack-all');
    });

    test('still no verb it does not use, and Leases only in its own namespace', async () => {
      const refused: [method: string, path: string, what: string, body?: unknown][] = [
        ['DELETE', `${kmsd('team-b')}/minio-kms`, 'delete a KMSDeployment'],
        ['GET', '/api/v1/pods', 'list Pods'],
        ['GET', '/api/v1/nodes', 'list Nodes'],
        ['GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', 'list CRDs'],
        ['POST', '/apis/coordination.k8s.io/v1/namespaces/team-a/leases', 'create a Lease elsewhere', { metadata: { name: leaseName }, spec: {} }],
      ];
      for (const [method, path, what, body] of refused) forbidden(await call(method, path, body), what);
    });
  });
});
