// The operator installed for real into the local test cluster: `helm install` from charts/, its Deployment
// run by the node agent as `node dist/main.js` of this checkout in a Pod, with the chart's ServiceAccount
// token (projected by the ServiceAccount admission plugin, minted by TokenRequest) and so exactly the
// chart's RBAC, reaching the API server the way in-cluster clients do. It reconciles a StaticKey
// KMSDeployment (no Vault, no KES) whose MinIO the node agent runs too; MinIO needs a minio program.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { clusterUnavailable, startCluster, type Cluster } from '../../env/cluster.ts';
import { repoRoot, waitFor } from '../../env/process.ts';
import { missingProgram } from '../../env/programs.ts';
import { chartDir, helm, releaseName, releaseNamespace } from '../../unit/packaging/helm.ts';

const execFileAsync = promisify(execFile);
type Condition = { type: string; status: string; reason?: string; message?: string };

describe('the operator installed with helm into the local test cluster', { skip: clusterUnavailable() }, () => {
  let cluster: Cluster;
  const status = async (kind: string, name: string, namespace: string) =>
    (JSON.parse((await cluster.kubectl(['get', kind, name, '-n', namespace, '-o', 'json'])).stdout) as { status?: Record<string, unknown> }).status ?? {};
  const operatorLog = () => {
    const pod = cluster.node.pods().find((p) => p.namespace === releaseNamespace);
    return pod ? cluster.node.logFile(pod.namespace, pod.name, 'operator') : undefined;
  };

  before(async () => {
    // The Pod runs dist/main.js of this checkout: build it from the current sources first.
    await execFileAsync('npm', ['run', 'build'], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
    cluster = await startCluster({ installCRDs: false });
  });
  after(async () => {
    await cluster?.stop({ keepLogs: Boolean(process.env.KMSSTACK_KEEP_LOGS) });
  });

  it('runs as a Pod under the chart\'s RBAC and becomes Available', async () => {
    // The chart's Roles live in the watched namespace, so it exists before the install.
    await cluster.kubectl(['create', 'namespace', 'team-a']);
    const install = await helm(['install', releaseName, chartDir, '-n', releaseNamespace, '--create-namespace',
      '--kubeconfig', cluster.kubeconfigPath, '--set', 'watchNamespaces={team-a}', '--wait=false']);
    assert.equal(install.code, 0, install.stderr);
    try {
      await waitFor('the operator Deployment to be Available', async () => {
        const { availableReplicas } = await status('deployment', releaseName, releaseNamespace) as { availableReplicas?: number };
        return availableReplicas === 1 ? true : undefined;
      }, 90_000, 500);
    } catch (err) {
      throw new Error(`${(err as Error).message}; node agent log: ${cluster.clusterLogs.nodeAgent}; operator log: ${operatorLog()}`);
    }
    const [pod] = cluster.node.pods().filter((p) => p.namespace === releaseNamespace);
    assert.ok(pod && pod.pids.length === 1, 'the operator runs as a process of its Pod');
    // It talks to the API server as the chart's ServiceAccount: it holds the Lease the chart's Role lets it take.
    const holder = await waitFor('the operator to hold its Lease', async () => {
      const { stdout } = await cluster.kubectl(['get', 'lease', 'kmsstack-operator-leader', '-n', releaseNamespace, '-o', 'jsonpath={.spec.holderIdentity}'])
        .catch(() => ({ stdout: '' }));
      return stdout || undefined;
    }, 30_000, 250);
    assert.match(holder, new RegExp(`^${pod.name}_`));
  });

  it('reconciles a StaticKey KMSDeployment', { skip: missingProgram('minio') }, async () => {
    await cluster.kubectl(['apply', '-n', 'team-a', '-f', '-'], JSON.stringify({
      apiVersion: 'kmsstack.io/v1alpha1', kind: 'KMSDeployment', metadata: { name: 'minio-dev' },
      spec: { mode: 'StaticKey', minio: { replicas: 1, keyName: 'minio-dev-key', autoEncryption: true, storage: { size: '1Gi' } } },
    }));
    let last: Condition[] = [];
    try {
      await waitFor('the KMSDeployment to be Ready', async () => {
        const current = await status('kmsdeployment', 'minio-dev', 'team-a') as { conditions?: Condition[] };
        last = current.conditions ?? [];
        return last.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
      }, 120_000, 1000);
    } catch (err) {
      throw new Error(`${(err as Error).message}; conditions: ${JSON.stringify(last)}; operator log: ${operatorLog()}`);
    }
    const minio = await status('statefulset', 'minio-dev-minio', 'team-a').catch(() => ({})) as { readyReplicas?: number };
    assert.equal(minio.readyReplicas, 1, 'the MinIO StatefulSet the operator made is Ready through the real controllers');
  });
});
