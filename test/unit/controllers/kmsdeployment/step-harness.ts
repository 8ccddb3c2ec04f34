// A step context over in-memory objects, for running the KES/keys/MinIO/verify steps without an API
// server: the runtime's real DesiredChildren, a cache and an API server that are plain maps (`kube`
// answers only the reads the steps make), and an event sink that records.
import assert from 'node:assert/strict';
import { testLogger } from '../../../support/logger.ts';
import type { DefaultedKMSDeploymentSpec } from '../../../../src/api/index.ts';
import type { KesClient } from '../../../../src/kes/client.ts';
import type { KesError } from '../../../../src/kes/errors.ts';
import type { Handoff, KMSDeploymentStepContext } from '../../../../src/controllers/kmsdeployment/context.ts';
import type { KMSDeploymentObject } from '../../../../src/controllers/kmsdeployment/status.ts';
import type { ObjectReader } from '../../../../src/runtime/cache.ts';
import { DesiredChildren } from '../../../../src/runtime/children.ts';
import type { EventInput, EventSink } from '../../../../src/runtime/events.ts';
import type { KubeClient } from '../../../../src/runtime/kube/client.ts';
import type { KnownKind, KubeObject, ResourceType } from '../../../../src/runtime/kube/resources.ts';
import { issue, makeCa, type Pem } from '../../kes/tls-fixture.ts';

export const owner: KMSDeploymentObject = {
  apiVersion: 'kmsstack.io/v1alpha1',
  kind: 'KMSDeployment',
  metadata: { name: 'tenant-a', namespace: 'storage', uid: 'uid-1', generation: 1 },
};

const silent = testLogger();

export class World {
  /** What the informer caches hold. */
  readonly cached = new Map<string, KubeObject>();
  /** What the API server holds (direct reads). */
  readonly stored = new Map<string, KubeObject>();
  readonly events: EventInput[] = [];
  /** kind/name of every object deleted through the client. */
  readonly deleted: string[] = [];

  put(kind: KnownKind, object: KubeObject, where: 'cache' | 'server' | 'both' = 'both'): void {
    const key = `${kind}/${object.metadata.name}`;
    if (where !== 'server') this.cached.set(key, object);
    if (where !== 'cache') this.stored.set(key, object);
  }

  context(spec: DefaultedKMSDeploymentSpec, handoff: Handoff = {}): KMSDeploymentStepContext {
    const cache: ObjectReader = {
      get: (kind, _namespace, name) => this.cached.get(`${kind}/${name}`),
      list: () => [],
      listAll: () => [],
    };
    const kube = {
      get: async (type: ResourceType, _namespace: string | undefined, name: string) => this.stored.get(`${type.kind}/${name}`),
      delete: async (type: ResourceType, _namespace: string | undefined, name: string) => {
        this.deleted.push(`${type.kind}/${name}`);
        return this.stored.delete(`${type.kind}/${name}`);
      },
    } as unknown as KubeClient;
    const events: EventSink = { emit: async (_regarding, event) => void this.events.push(event) };
    return {
      object: owner,
      spec,
      now: new Date('2026-01-01T00:00:00Z'),
      logger: silent,
      cache,
      kube,
      events,
      children: new DesiredChildren(owner),
      status: {},
      handoff,
      signal: new AbortController().signal,
    };
  }
}

export function tlsSecret(name: string, pem: Pem, ca: string): KubeObject {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'storage' }, data: { 'tls.crt': b64(pem.cert), 'tls.key': b64(pem.key), 'ca.crt': b64(ca) } };
}

/** Puts the client identities the PKI step issues (MinIO's and the operator's, towards KES) into `world`. */
export function putKesClientIdentities(world: World, certs: Pick<TenantCertificates, 'minioClient' | 'operatorClient'> & { ca: { cert: string } }): void {
  world.put('Secret', tlsSecret('tenant-a-minio-kes-identity', certs.minioClient, certs.ca.cert));
  world.put('Secret', tlsSecret('tenant-a-operator-kes-identity', certs.operatorClient, certs.ca.cert));
}

/**
 * Checks KES's answer to a listing of a prefix without keys: 502 "failed to list keys", from the real KES
 * (integration/kes/real-kes.test.ts) and from the stand-in alike. Closes `client`.
 */
export async function assertEmptyListingFails(client: KesClient): Promise<void> {
  try {
    await assert.rejects(client.listKeys(), (err: KesError) => err.reason === 'KeystoreError' && err.status === 502 && /failed to list keys\)$/.test(err.message));
  } finally {
    client.close();
  }
}

export function opaqueSecret(name: string, data: Record<string, string>, annotations?: Record<string, string>): KubeObject {
  const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'storage', ...(annotations ? { annotations } : {}) }, data: encoded };
}

export function decoded(secret: KubeObject | undefined, key: string): string {
  return Buffer.from(((secret as { data?: Record<string, string> } | undefined)?.data ?? {})[key] ?? '', 'base64').toString('utf8');
}

/** tenant-a's certificates as the PKI step issues them: a CA, KES's server certificate, MinIO's and the operator's client certificates. */
export interface TenantCertificates {
  ca: Awaited<ReturnType<typeof makeCa>>;
  kesServer: Pem;
  minioClient: Pem;
  /** MinIO's S3 server certificate, which the PKI step issues by default (spec.minio.tls.enabled). */
  minioServer: Pem;
  operatorClient: Pem;
}

export async function tenantCertificates(): Promise<TenantCertificates> {
  const ca = await makeCa();
  const [kesServer, minioClient, minioServer, operatorClient] = await Promise.all([
    issue(ca, 'tenant-a-kes', 'server'),
    issue(ca, 'tenant-a-minio', 'client'),
    issue(ca, 'tenant-a-minio', 'server'),
    issue(ca, 'kmsstack-operator', 'client'),
  ]);
  return { ca, kesServer, minioClient, minioServer, operatorClient };
}
