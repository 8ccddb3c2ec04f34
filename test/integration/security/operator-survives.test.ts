// The operator process keeps running when it loses its own Kubernetes credentials or the API server
// for a while, and picks up work once they are back. Regression tests for two crashes:
// - client-node's ListWatch (used until session 11) reconnected inside the previous watch's done
//   callback; when the credentials could not be obtained there (a failing exec plugin, an
//   unreadable token file) the rejection was unhandled and Node ended the process (exit 1);
// - every runtime timer is unref'd, so with all watches backing off, no HTTP server and no leader
//   election, nothing kept the event loop alive and the process ended with exit code 0.
// The API server runs with --min-request-timeout=1 so that watches end (cleanly) every 1-2 s and
// reconnect through exactly that callback.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../../support/stack.ts';
import { suiteFixture } from '../../support/suite.ts';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import { type ControlPlane } from '../../env/controlplane.ts';
import { leftovers, makeTempDir, removeTempDir } from '../../env/process.ts';
import { autoEncrypting, getKMSDeployment, waitFor } from '../runtime/harness.ts';
import { inNamespace, kmsDeployment } from '../../support/kmsdeployment.ts';
import { OperatorProcess } from '../../faults/operator.ts';

const NS = 'survive';

/** A kubeconfig whose user is an exec credential plugin that fails while `broken` exists. */
function execKubeconfig(plane: ControlPlane, dir: string, token: string): { path: string; broken: string } {
  const tokenFile = join(dir, 'token');
  const broken = join(dir, 'broken');
  const plugin = join(dir, 'credential-plugin.sh');
  writeFileSync(tokenFile, token, { mode: 0o600 });
  // Credentials that expire after a second, so that every reconnect runs the plugin again.
  writeFileSync(plugin, [
    '#!/bin/sh',
    `if [ -e '${broken}' ]; then echo 'credential plugin: identity provider unavailable' >&2; exit 1; fi`,
    `printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}' "$(cat '${tokenFile}')" "$(date -u -d '+1 second' +%Y-%m-%dT%H:%M:%SZ)"`,
    '',
  ].join('\n'));
  chmodSync(plugin, 0o700);
  const path = join(dir, 'exec.kubeconfig');
  writeFileSync(path, yaml.dump({
    apiVersion: 'v1', kind: 'Config',
    clusters: [{ name: 'test', cluster: { server: plane.server, 'certificate-authority-data': Buffer.from(plane.caPem).toString('base64') } }],
    users: [{ name: 'operator', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' } } }],
    contexts: [{ name: 'test', context: { cluster: 'test', user: 'operator' } }],
    'current-context': 'test',
  }), { mode: 0o600 });
  return { path, broken };
}

describe('the operator process survives losing its credentials or the API server', { timeout: 240_000 }, () => {
  let dir: string;
  const operators: OperatorProcess[] = [];
  const stack = suiteFixture(() => startStack({ vault: false, namespace: NS, controlPlane: { apiServerFlags: ['--min-request-timeout=1'] } }), async () => {
    for (const operator of operators) await operator.kill();
  });

  before(() => {
    dir = makeTempDir('survive');
  });

  after(() => {
    if (dir) removeTempDir(dir);
    assert.deepEqual(leftovers(), { processes: [], tempDirs: [] });
  });

  const reconciled = (name: string) =>
    waitFor(`${name} to be reconciled`, async () => ((await getKMSDeployment(stack.kube, NS, name))?.status?.observedGeneration === 1 ? true : undefined), 45_000, 200);

  it('keeps running while its exec credential plugin fails during watch reconnects, and recovers', async () => {
    const token = await stack.plane.mintServiceAccountToken(NS, 'operator');
    await stack.kube.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      resource: 'clusterrolebindings', verb: 'create',
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'survive-operator' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ kind: 'ServiceAccount', name: 'operator', namespace: NS }],
      },
    });
    const kubeconfig = execKubeconfig(stack.plane, dir, token);
    const operator = OperatorProcess.start({ kubeconfigPath: kubeconfig.path, leaseNamespace: NS, leaderElection: false, logDir: dir });
    operators.push(operator);
    await operator.waitUntilReconciling();

    writeFileSync(kubeconfig.broken, '');
    await operator.stayAlive(6_000, 'while the credential plugin fails');
    rmSync(kubeconfig.broken);

    const failures = operator.logLines().filter((l) => l.msg === 'watch failed; restarting' && String(l.err).includes('identity provider unavailable'));
    assert.ok(failures.length > 0, 'the failing plugin hit the watch reconnects (else this test proves nothing)');
    await stack.kube.create(kmsDeployment('after-credentials', inNamespace(NS), autoEncrypting));
    await reconciled('after-credentials');
    operator.assertAlive();
    assert.doesNotMatch(operator.output(), /Unhandled|UnhandledPromiseRejection|^\s+at /m, 'no stack trace or unhandled rejection in the output');
    await operator.stop();
  });

  it('keeps running while the API server is down, without HTTP server or leader election, and recovers', async () => {
    const operator = OperatorProcess.start({ kubeconfigPath: stack.plane.kubeconfigPath, leaseNamespace: NS, leaderElection: false, logDir: dir });
    operators.push(operator);
    await operator.waitUntilReconciling();
    await stack.plane.stopApiServer();
    try {
      await operator.stayAlive(8_000, 'while the API server is down');
    } finally {
      await stack.plane.startApiServer();
    }
    await stack.kube.create(kmsDeployment('after-outage', inNamespace(NS), autoEncrypting));
    await reconciled('after-outage');
    operator.assertAlive();
    await operator.stop();
  });
});
