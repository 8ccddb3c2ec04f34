// The local test cluster (test/env/cluster.ts) runs workloads end to end: the real Deployment, ReplicaSet,
// StatefulSet, PV binder, EndpointSlice and garbage-collector controllers and the real scheduler act on Pods
// that the node agent runs as local processes. A KES Deployment (Secret volume, Service) and a 4-replica
// distributed MinIO StatefulSet (2 PVCs per Pod, headless Service) become Ready; deleting the owner removes
// the Pods and their processes. The KES and MinIO parts skip with one line when the programs are missing.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { type Cluster, clusterUnavailable, startCluster, stopWithoutLeftovers } from '../../env/cluster.ts';
import { isAlive, waitFor } from '../../env/process.ts';
import { PINNED, missingProgram } from '../../env/programs.ts';
import { identityOf, issue, makeCa } from '../../unit/kes/tls-fixture.ts';

type Json = Record<string, unknown>;
type Condition = { type: string; status: string; reason?: string; message?: string };

describe('the local test cluster', { skip: clusterUnavailable() }, () => {
  let cluster: Cluster;
  const get = async (args: string[]) => JSON.parse((await cluster.kubectl(['get', ...args, '-o', 'json'])).stdout) as Json & { items?: Json[] };
  const apply = (namespace: string, objects: Json[]) =>
    cluster.kubectl(['apply', '-n', namespace, '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  const createNamespace = (name: string) => cluster.kubectl(['create', 'namespace', name]);
  /** Pod name -> IP, as `kubectl get pods -o wide` shows them. */
  const podIPs = async (namespace: string) => {
    const { stdout } = await cluster.kubectl(['get', 'pods', '-n', namespace, '-o', 'wide', '--no-headers']);
    return new Map(stdout.trim().split('\n').filter(Boolean).map((line) => {
      const columns = line.split(/\s+/);
      return [columns[0]!, columns[5]!] as const;
    }));
  };
  const agentPids = (namespace: string) => cluster.node.pods().filter((p) => p.namespace === namespace).flatMap((p) => p.pids);
  /** Deletes the owner and waits until its Pods are gone from the API and their processes have exited. */
  async function deleteOwner(namespace: string, kind: string, name: string, pids: number[]) {
    await cluster.kubectl(['delete', kind, name, '-n', namespace, '--wait=false']);
    await waitFor(`the Pods of ${kind} ${name} to be deleted`, async () => ((await get(['pods', '-n', namespace])).items!.length === 0 ? true : undefined), 60_000, 250);
    await waitFor(`the processes of ${kind} ${name} to exit`, async () => (pids.every((pid) => !isAlive(pid)) ? true : undefined), 10_000, 100);
  }

  before(async () => {
    cluster = await startCluster({ installCRDs: false });
  });
  after(async () => {
    await stopWithoutLeftovers(cluster, 'the cluster and its Pods');
  });

  it('registers a Ready node and leaves a Pod of an image it cannot run not ready, naming the image', async () => {
    const node = await get(['node', cluster.node.options.nodeName]);
    const conditions = (node.status as { conditions: Condition[] }).conditions;
    assert.equal(conditions.find((c) => c.type === 'Ready')?.status, 'True');
    await createNamespace('unknown-image');
    await apply('unknown-image', [{
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'registry.example/nginx:1.27' }] } },
      },
    }]);
    const pod = await waitFor('the Deployment Pod to be refused', async () => {
      const pods = (await get(['pods', '-n', 'unknown-image'])).items as { status?: { conditions?: Condition[]; containerStatuses?: Json[] } }[];
      return pods[0]?.status?.conditions?.some((c) => c.type === 'NodeAgentEmulation') ? pods[0] : undefined;
    }, 60_000, 250);
    const refusal = pod.status!.conditions!.find((c) => c.type === 'NodeAgentEmulation')!;
    assert.equal(refusal.status, 'False');
    assert.match(refusal.message!, /registry\.example\/nginx:1\.27/);
    assert.equal(pod.status!.conditions!.find((c) => c.type === 'Ready')?.status, 'False');
    const events = (await get(['events', '-n', 'unknown-image'])).items as { reason: string; message: string }[];
    assert.ok(events.some((e) => e.reason === 'NotEmulated' && e.message.includes('registry.example/nginx:1.27')), 'a Warning Event names the image');
    const deployment = await get(['deployment', 'web', '-n', 'unknown-image']);
    assert.equal((deployment.status as { readyReplicas?: number }).readyReplicas ?? 0, 0);
    await deleteOwner('unknown-image', 'deployment', 'web', []);
  });

  describe('a KES Deployment with a Secret volume and a Service', { skip: missingProgram('kes') }, () => {
    it('becomes Available through the real controllers, serves on its own address, and goes with its owner', async () => {
      const namespace = 'kes';
      await createNamespace(namespace);
      const ca = await makeCa();
      const server = await issue(ca, 'kes', 'server');
      const admin = await issue(ca, 'kes-admin', 'client');
      const config = [
        'address: 0.0.0.0:7373',
        `admin:\n  identity: ${identityOf(admin.cert)}`,
        'tls:\n  key: /etc/kes/tls.key\n  cert: /etc/kes/tls.crt',
        'api:\n  /v1/ready:\n    skip_auth: true\n    timeout: 15s',
        'keystore:\n  fs:\n    path: /var/lib/kes/keys',
      ].join('\n');
      await apply(namespace, [
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'kes-config' }, stringData: { 'config.yaml': config, 'tls.crt': server.cert, 'tls.key': server.key } },
        {
          apiVersion: 'v1', kind: 'Service', metadata: { name: 'kes' },
          spec: { selector: { app: 'kes' }, ports: [{ name: 'https', port: 7373, targetPort: 'https' }] },
        },
        {
          apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'kes' },
          spec: {
            selector: { matchLabels: { app: 'kes' } },
            template: {
              metadata: { labels: { app: 'kes' } },
              spec: {
                containers: [{
                  name: 'kes', image: `quay.io/minio/kes:${PINNED.kes}`, args: ['server', '--config', '/etc/kes/config.yaml'],
                  ports: [{ name: 'https', containerPort: 7373 }],
                  readinessProbe: { httpGet: { path: '/v1/ready', port: 'https', scheme: 'HTTPS' }, periodSeconds: 1 },
                  livenessProbe: { httpGet: { path: '/v1/ready', port: 'https', scheme: 'HTTPS' }, periodSeconds: 5 },
                  volumeMounts: [{ name: 'config', mountPath: '/etc/kes', readOnly: true }, { name: 'keys', mountPath: '/var/lib/kes/keys' }],
                }],
                volumes: [
                  { name: 'config', secret: { secretName: 'kes-config', defaultMode: 0o440, items: [
                    { key: 'config.yaml', path: 'config.yaml' }, { key: 'tls.crt', path: 'tls.crt' }, { key: 'tls.key', path: 'tls.key', mode: 0o400 },
                  ] } },
                  { name: 'keys', emptyDir: {} },
                ],
              },
            },
          },
        },
      ]);
      await waitFor('the KES Deployment to be Available', async () => {
        const status = (await get(['deployment', 'kes', '-n', namespace])).status as { availableReplicas?: number; conditions?: Condition[] };
        return status.availableReplicas === 1 && status.conditions?.some((c) => c.type === 'Available' && c.status === 'True') ? true : undefined;
      }, 60_000, 250);
      const [podName, podIP] = [...(await podIPs(namespace))][0]!;
      assert.match(podIP!, /^10\.244\.0\.\d+$/, `kubectl get pods -o wide shows the Pod's own address (${podName})`);
      const ready = await cluster.node.httpGet(`https://${podIP}:7373/v1/ready`);
      assert.equal(ready.status, 200, `KES answers on the Pod address: ${JSON.stringify(ready)}`);
      const slices = (await get(['endpointslices', '-n', namespace, '-l', 'kubernetes.io/service-name=kes'])).items as { endpoints?: { addresses: string[] }[] }[];
      assert.deepEqual(slices.flatMap((s) => s.endpoints ?? []).flatMap((e) => e.addresses), [podIP], 'the EndpointSlice controller lists the ready Pod');
      const pids = agentPids(namespace);
      assert.equal(pids.length, 1);
      const inPod = (...command: string[]) => execFileSync('nsenter', ['--target', String(pids[0]), '--mount', '--', ...command], { encoding: 'utf8' }).trim();
      assert.equal(inPod('stat', '-c', '%a', '/etc/kes/tls.key'), '400', 'the item mode applies');
      assert.equal(inPod('stat', '-c', '%a', '/etc/kes/tls.crt'), '440', 'the defaultMode applies');
      assert.match(inPod('cat', '/etc/hosts'), new RegExp(`^${podIP!.replace(/\./g, '\\.')}\\s.*\\bkes\\.kes\\.svc\\.cluster\\.local\\b`, 'm'), 'the Service name resolves to the ready endpoint');
      // A container that dies is restarted in its Pod, and the Pod is Ready again.
      process.kill(pids[0]!, 'SIGKILL');
      await waitFor('the KES container to be restarted and Ready', async () => {
        const pod = (await get(['pod', podName!, '-n', namespace])) as { status?: { containerStatuses?: { restartCount: number; ready: boolean }[] } };
        const container = pod.status?.containerStatuses?.[0];
        return container?.restartCount === 1 && container.ready ? true : undefined;
      }, 30_000, 250);
      const restarted = agentPids(namespace);
      assert.equal(restarted.length, 1);
      assert.notEqual(restarted[0], pids[0]);
      await deleteOwner(namespace, 'deployment', 'kes', restarted);
    });
  });

  describe('a distributed MinIO StatefulSet with 2 PVCs per Pod and a headless Service', { skip: missingProgram('minio') }, () => {
    it('forms one cluster of 4 Pods, each on its own address, and goes with its owner', async () => {
      const namespace = 'minio';
      const replicas = 4;
      await createNamespace(namespace);
      const probe = (path: string, periodSeconds: number) => ({ httpGet: { path, port: 's3' }, periodSeconds, timeoutSeconds: 2 });
      await apply(namespace, [
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'minio-root' }, stringData: { user: 'cluster-test-root', password: 'cluster-test-password-1' } },
        {
          apiVersion: 'v1', kind: 'Service', metadata: { name: 'minio-hl' },
          spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: { app: 'minio' }, ports: [{ name: 's3', port: 9000, targetPort: 's3' }] },
        },
        {
          apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'minio' },
          spec: {
            replicas, serviceName: 'minio-hl', podManagementPolicy: 'Parallel',
            selector: { matchLabels: { app: 'minio' } },
            template: {
              metadata: { labels: { app: 'minio' } },
              spec: {
                terminationGracePeriodSeconds: 5,
                containers: [{
                  name: 'minio', image: `quay.io/minio/minio:${PINNED.minio}`,
                  args: ['server', `http://minio-{0...${replicas - 1}}.minio-hl.${namespace}.svc.cluster.local:9000/data{0...1}`, '--address', ':9000'],
                  env: [
                    { name: 'MINIO_ROOT_USER', valueFrom: { secretKeyRef: { name: 'minio-root', key: 'user' } } },
                    { name: 'MINIO_ROOT_PASSWORD', valueFrom: { secretKeyRef: { name: 'minio-root', key: 'password' } } },
                    { name: 'MINIO_BROWSER', value: 'off' },
                  ],
                  ports: [{ name: 's3', containerPort: 9000 }],
                  readinessProbe: probe('/minio/health/ready', 2),
                  livenessProbe: probe('/minio/health/live', 5),
                  volumeMounts: [{ name: 'data0', mountPath: '/data0' }, { name: 'data1', mountPath: '/data1' }],
                }],
              },
            },
            volumeClaimTemplates: ['data0', 'data1'].map((name) => ({
              metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
            })),
          },
        },
      ]);
      await waitFor('the MinIO StatefulSet to be Ready', async () => {
        const status = (await get(['statefulset', 'minio', '-n', namespace])).status as { readyReplicas?: number; availableReplicas?: number };
        return status.readyReplicas === replicas && status.availableReplicas === replicas ? true : undefined;
      }, 150_000, 500);
      const ips = await podIPs(namespace);
      assert.equal(ips.size, replicas);
      assert.equal(new Set(ips.values()).size, replicas, `each Pod has its own address: ${JSON.stringify([...ips])}`);
      const claims = (await get(['pvc', '-n', namespace])).items as { status: { phase: string } }[];
      assert.equal(claims.length, 2 * replicas);
      assert.ok(claims.every((c) => c.status.phase === 'Bound'), 'every claim is bound to a provisioned PV');
      // Ready means each server is up; the cluster endpoint says 200 once the erasure sets have write quorum.
      const health = `http://${ips.get('minio-0')}:9000/minio/health/cluster`;
      await waitFor('MinIO /minio/health/cluster to answer 200', async () => ((await cluster.node.httpGet(health)).status === 200 ? true : undefined), 60_000, 500);
      const pids = agentPids(namespace);
      assert.equal(pids.length, replicas);
      await deleteOwner(namespace, 'statefulset', 'minio', pids);
    });
  });
});
