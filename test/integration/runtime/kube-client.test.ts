// KubeClient's request path against a real kube-apiserver: one pooled dispatcher for every request, with the
// kubeconfig's authentication applied to each request on its own (a rotated token is used at once).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeConfig } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../env/controlplane.ts';
import { KubeApiError, KubeClient } from '../../../src/runtime/kube/client.ts';
import { resources } from '../../../src/runtime/kube/resources.ts';

/** Counts the calls of client-node's applySecurityAuthentication, the call that builds a new undici Agent. */
function countAgentBuilds(kubeConfig: KubeConfig): () => number {
  let calls = 0;
  const original = kubeConfig.applySecurityAuthentication.bind(kubeConfig);
  kubeConfig.applySecurityAuthentication = async (context) => {
    calls++;
    return original(context);
  };
  return () => calls;
}

function withToken(kubeConfig: KubeConfig, token: string): void {
  kubeConfig.users = kubeConfig.users.map((user) => ({ ...user, token }));
}

describe('KubeClient: pooled connections, per-request authentication (real kube-apiserver)', { timeout: 120_000 }, () => {
  let plane: ControlPlane;

  before(async () => {
    plane = await startControlPlane({ installCRDs: false });
  });

  after(async () => {
    await plane?.stop();
  });

  it('builds one connection pool for many requests and still sends the current token with each', async () => {
    const token = await plane.mintServiceAccountToken('kube-client', 'reader');
    const { kubeConfig } = plane.kubeConfigForToken(token, 'reader');
    const agentBuilds = countAgentBuilds(kubeConfig);
    const client = new KubeClient(kubeConfig, 'kube-client-test');
    try {
      // A ServiceAccount may not read StorageClasses: a 403 names the account, so the token was sent.
      const denied = await client.get(resources.StorageClass, undefined, 'standard').catch((err: unknown) => err);
      assert.ok(denied instanceof KubeApiError && denied.statusCode === 403, String(denied));
      assert.match(denied.message, /system:serviceaccount:kube-client:reader/);
      for (let i = 0; i < 20; i++) {
        const answer = await client.request<{ kind?: string }>('GET', '/version', { resource: 'version', verb: 'get' });
        assert.ok(answer, 'an answer from /version');
      }
      assert.equal(agentBuilds(), 1, 'one Agent for 21 requests');

      withToken(kubeConfig, 'not-a-token');
      const refused = await client.request('GET', '/version', { resource: 'version', verb: 'get' }).catch((err: unknown) => err);
      assert.ok(refused instanceof KubeApiError && refused.statusCode === 401, `a replaced token is used at once: ${String(refused)}`);

      withToken(kubeConfig, token);
      const again = await client.get(resources.StorageClass, undefined, 'standard').catch((err: unknown) => err);
      assert.ok(again instanceof KubeApiError && again.statusCode === 403, String(again));
      assert.equal(agentBuilds(), 1, 'still the one pool');
    } finally {
      await client.close();
    }
  });
});
