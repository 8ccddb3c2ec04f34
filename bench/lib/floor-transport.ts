// How the floor sends its requests. Two ways, both measured:
// - "keep-alive": what a plain script does — node:https / node:http with one keep-alive agent per
//   server, nothing else. This is the floor the operator is compared with.
// - "operator clients": the operator's own KubeClient and VaultClient, so the difference to the
//   keep-alive floor is the cost of the transport alone, and the difference to the operator the
//   cost of everything else (watches, cache, queue, reads, comparisons).
import { text } from 'node:stream/consumers';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { FIELD_MANAGER, type KubeClient } from '../../src/runtime/kube/client.ts';
import { type KubeObject, resourceFor, resourcePath } from '../../src/runtime/kube/resources.ts';
import { VaultClient, type VaultMethod } from '../../src/vault/client.ts';

export interface FloorTransport {
  readonly name: string;
  apply(object: KubeObject, subresource?: 'status'): Promise<void>;
  create(object: KubeObject): Promise<void>;
  vault(method: VaultMethod, path: string,
    body?: Record<string, unknown>): Promise<Record<string, unknown> | undefined>;
  close(): void;
}

export function operatorClientsTransport(kube: KubeClient, vaultAddress: string, vaultToken: string): FloorTransport {
  const vault = new VaultClient({ address: vaultAddress, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
  return {
    name: "operator's clients",
    apply: async (object, subresource) => void (await kube.apply(object, subresource ? { subresource } : {})),
    create: async (object) => void (await kube.create(object)),
    vault: (method, path, body) =>
      vault.call({ method, path, token: vaultToken, json: body, operation: `floor ${method} ${path}` }),
    close: () => undefined,
  };
}

interface Target {
  url: string;
  agent: HttpAgent;
  send: typeof httpRequest;
  headers: Record<string, string>;
}

function call(target: Target, method: string, path: string, body: string | undefined,
  contentType: string): Promise<string>
{
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...target.headers, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = contentType;
    const req = target.send(`${target.url}${path}`, { method, agent: target.agent, headers, timeout: 30_000 },
      (res) => {
        text(res).then((body) => {
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) resolve(body);
          else reject(new Error(`floor: ${method} ${path}: ${code} ${body.slice(0, 300)}`));
        }, reject);
      });
    req.on('timeout', () => req.destroy(new Error(`floor: ${method} ${path}: timeout`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Plain HTTP(S) with keep-alive, authenticated like the operator (its kubeconfig's bearer token, its Vault token). */
export function keepAliveTransport(kubeConfig: KubeConfig, vaultAddress: string, vaultToken: string,
  connections: number): FloorTransport
{
  const cluster = kubeConfig.getCurrentCluster();
  const token = kubeConfig.getCurrentUser()?.token;
  if (!cluster?.caData || !token) {
    throw new Error('floor: the operator kubeconfig needs certificate-authority-data and a token');
  }
  const kube: Target = {
    url: cluster.server,
    agent: new HttpsAgent({ keepAlive: true, maxSockets: connections,
      ca: Buffer.from(cluster.caData, 'base64').toString('utf8') }),
    send: httpsRequest as unknown as typeof httpRequest,
    headers: { Authorization: `Bearer ${token}` },
  };
  const vault: Target = {
    url: `${vaultAddress}/v1/`,
    agent: new HttpAgent({ keepAlive: true, maxSockets: connections }),
    send: vaultAddress.startsWith('https:') ? (httpsRequest as unknown as typeof httpRequest) : httpRequest,
    headers: { 'X-Vault-Token': vaultToken },
  };
  const manager = `fieldManager=${encodeURIComponent(FIELD_MANAGER)}`;
  return {
    name: 'plain keep-alive',
    apply: async (object, subresource) => {
      const path = resourcePath(resourceFor(object.apiVersion, object.kind), object.metadata.namespace,
        object.metadata.name, subresource);
      await call(kube, 'PATCH', `${path}?${manager}&force=true`, JSON.stringify(object),
        'application/apply-patch+yaml');
    },
    create: async (object) => {
      const path = resourcePath(resourceFor(object.apiVersion, object.kind), object.metadata.namespace);
      await call(kube, 'POST', `${path}?${manager}`, JSON.stringify(object), 'application/json');
    },
    vault: async (method, path, body) => {
      const text = await call(vault, method, path, body === undefined ? undefined : JSON.stringify(body),
        'application/json');
      return text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    },
    close: () => {
      kube.agent.destroy();
      vault.agent.destroy();
    },
  };
}
