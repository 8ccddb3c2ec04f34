// The operator as a process: SIGTERM while a reconcile is in flight lets it finish, releases the lease
// and exits 0 within the shutdown timeout; src/main.ts starts, serves its endpoints and stops the same
// way; a bad flag stops start-up with a message naming the flag.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../../support/stack.ts';
import { suiteFixture } from '../../support/suite.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { resources, type KubeObject } from '../../../src/runtime/kube/resources.ts';
import { repoRoot } from '../../env/process.ts';
import { autoEncrypting, getKMSDeployment, waitFor } from './harness.ts';
import { inNamespace, kmsDeployment } from '../../support/kmsdeployment.ts';

const NS = 'sd';

interface Running {
  child: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  exited: Promise<number | null>;
}

function runNode(script: string, args: string[], env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, script), ...args], {
    cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, stdout: () => stdout, exited };
}

describe('operator process lifecycle (real kube-apiserver)', { timeout: 300_000 }, () => {
  const children: ChildProcess[] = [];
  const stack = suiteFixture(() => startStack({ vault: false, namespace: NS }), () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });

  const lease = async (name: string) => (await stack.kube.get(resources.Lease, NS, name)) as (KubeObject & { spec: { holderIdentity?: string; leaseDurationSeconds?: number } }) | undefined;

  it('on SIGTERM mid-reconcile finishes the reconcile, releases the lease and exits 0 within the timeout', async () => {
    const operator = runNode('test/integration/runtime/fixtures/operator-with-slow-step.ts', [
      '--kubeconfig', stack.plane.kubeconfigPath, '--leader-election-namespace', NS, '--leader-election-lease-name', 'sd-slow',
      '--http-address', '127.0.0.1:0', '--shutdown-timeout', '20s', '--log-level', 'info',
    ], { SLOW_STEP_MS: '3000' });
    children.push(operator.child);
    await waitFor('lease acquired', async () => ((await lease('sd-slow'))?.spec.holderIdentity ? true : undefined), 30_000);
    await stack.kube.create(kmsDeployment('slow', inNamespace(NS), autoEncrypting));
    await waitFor('reconcile in flight', async () => (operator.stderr().includes('step-started slow') ? true : undefined), 30_000);
    const signalledAt = Date.now();
    operator.child.kill('SIGTERM');
    const code = await operator.exited;
    const took = Date.now() - signalledAt;
    assert.equal(code, 0, `exit code (stderr: ${operator.stderr().slice(-2000)})`);
    assert.ok(took < 20_000, `took ${took} ms`);
    assert.ok(operator.stderr().includes('step-finished slow'), 'the in-flight reconcile finished');
    assert.ok(!operator.stderr().includes('step-aborted'), 'and was not aborted');
    const released = await lease('sd-slow');
    assert.equal(released?.spec.holderIdentity, '', 'the lease is released');
    assert.equal(released?.spec.leaseDurationSeconds, 1);
    assert.equal((await getKMSDeployment(stack.kube, NS, 'slow'))?.status?.observedGeneration, 1, 'the reconcile wrote its status before exit');
    assert.match(operator.stdout(), /"msg":"shutting down: finishing in-flight reconciles"/);
  });

  it('aborts a reconcile that outlasts the shutdown timeout and still exits 0', async () => {
    const operator = runNode('test/integration/runtime/fixtures/operator-with-slow-step.ts', [
      '--kubeconfig', stack.plane.kubeconfigPath, '--leader-election-namespace', NS, '--leader-election-lease-name', 'sd-stuck',
      '--http-address', '0', '--shutdown-timeout', '1s',
    ], { SLOW_STEP_MS: '60000' });
    children.push(operator.child);
    await waitFor('reconcile in flight', async () => (operator.stderr().includes('step-started') ? true : undefined), 30_000);
    const signalledAt = Date.now();
    operator.child.kill('SIGTERM');
    assert.equal(await operator.exited, 0);
    assert.ok(Date.now() - signalledAt < 5_000);
    assert.ok(operator.stderr().includes('step-aborted'));
    assert.equal((await lease('sd-stuck'))?.spec.holderIdentity, '');
  });

  it('runs src/main.ts: serves /healthz and /readyz, stops on SIGINT with exit 0', async () => {
    const operator = runNode('src/main.ts', [], {
      KUBECONFIG: stack.plane.kubeconfigPath, KMSSTACK_LEADER_ELECTION_NAMESPACE: NS, KMSSTACK_LEADER_ELECTION_LEASE_NAME: 'sd-main',
      KMSSTACK_HTTP_ADDRESS: '127.0.0.1:0', KMSSTACK_LOG_LEVEL: 'debug',
    });
    children.push(operator.child);
    const port = await waitFor('http port in the log', async () => /"httpPort":(\d+)/.exec(operator.stdout())?.[1], 30_000);
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    await waitFor('ready', async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200 ? true : undefined));
    await waitFor('leading', async () => ((await lease('sd-main'))?.spec.holderIdentity ? true : undefined), 30_000);
    for (const line of operator.stdout().trim().split('\n')) {
      const record = JSON.parse(line) as Record<string, unknown>;
      assert.ok(typeof record.level === 'string' && typeof record.time === 'string' && typeof record.msg === 'string', `not a pino JSON line: ${line}`);
    }
    operator.child.kill('SIGINT');
    assert.equal(await operator.exited, 0);
    assert.equal((await lease('sd-main'))?.spec.holderIdentity, '');
  });

  it('stops start-up on a bad flag with a message naming it (exit code 2)', async () => {
    const operator = runNode('src/main.ts', ['--workers', 'lots'], { KUBECONFIG: stack.plane.kubeconfigPath, KMSSTACK_LEADER_ELECTION_NAMESPACE: NS });
    children.push(operator.child);
    assert.equal(await operator.exited, 2);
    assert.match(operator.stderr(), /invalid --workers \(env KMSSTACK_WORKERS\): must be a whole number \(got "lots"\)/);
  });
});
