// Shared set-up of the runtime integration tests: one real control plane per test file, an admin
// client, operator configurations for in-process managers, and test-only steps that produce children.
import { kmsDeploymentObject } from '../../support/kmsdeployment.ts';
import { testLogger } from '../../support/logger.ts';
import { randomUUID } from 'node:crypto';
import { startControlPlane, WRITE_VERBS, type ControlPlane } from '../../env/controlplane.ts';
import { waitFor } from '../../env/process.ts';
import { defaultKesImage, defaultMinioImage } from '../../../src/api/index.ts';
import type { OperatorConfig } from '../../../src/config.ts';
import { KubeClient } from '../../../src/runtime/kube/client.ts';
import { resources, type KubeObject } from '../../../src/runtime/kube/resources.ts';
import { Manager } from '../../../src/runtime/manager.ts';
import { kmsDeploymentController, type KMSDeploymentControllerOptions } from '../../../src/controllers/kmsdeployment/controller.ts';
import type { KMSDeploymentStep } from '../../../src/controllers/kmsdeployment/context.ts';
import { DEFAULT_SERVICE_ACCOUNT_TOKEN_PATH } from '../../../src/vault/session.ts';
import { DEFAULT_PREFIX_TEMPLATE, parsePrefixTemplate } from '../../../src/vault/tenancy.ts';

export { waitFor, WRITE_VERBS, testLogger };
export type { ControlPlane };

/** The resources an operator writes; apiserver's own writes (leases, endpoints...) are not counted. */
export const OPERATOR_RESOURCES = ['kmsdeployments', 'configmaps', 'secrets', 'services', 'deployments', 'statefulsets', 'events'];

export async function writeCount(plane: ControlPlane): Promise<number> {
  let total = 0;
  for (const resource of OPERATOR_RESOURCES) total += await plane.requestCount(WRITE_VERBS, resource);
  return total;
}


export function testConfig(overrides: Partial<OperatorConfig> = {}, leader: Partial<OperatorConfig['leaderElection']> = {}): OperatorConfig {
  return {
    namespaces: [],
    workers: 2,
    resyncPeriodMs: 600_000,
    reconcileTimeoutMs: 120_000,
    vaultRequestTimeoutMs: 10_000,
    httpBindAddress: { host: '127.0.0.1', port: 0 },
    metricsBindAddress: 'shared',
    logLevel: 'silent',
    shutdownTimeoutMs: 10_000,
    backoff: { baseMs: 200, maxMs: 2_000 },
    kubeconfig: undefined,
    instanceName: 'default',
    kvPrefixRule: parsePrefixTemplate(DEFAULT_PREFIX_TEMPLATE),
    vaultAddresses: [],
    vaultCAFiles: [],
    vaultTokenPath: DEFAULT_SERVICE_ACCOUNT_TOKEN_PATH,
    defaultImages: { kesImage: defaultKesImage, minioImage: defaultMinioImage },
    ...overrides,
    leaderElection: {
      enabled: false, namespace: 'default', leaseName: `kmsstack-test-${randomUUID().slice(0, 8)}`, identity: `test-${randomUUID().slice(0, 8)}`,
      leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...leader,
    },
  };
}

/** An in-process manager running the KMSDeployment controller as main.ts registers it (steps and cleanups replaceable). */
export function newManager(plane: ControlPlane, options: Omit<KMSDeploymentControllerOptions, 'settings'> & { config?: OperatorConfig } = {}): Manager {
  const { config = testConfig(), ...controller } = options;
  return new Manager({ kubeConfig: plane.kubeConfig, logger: testLogger(), config, controllers: [kmsDeploymentController({ settings: config, ...controller })] });
}

/** A control plane, an admin client, a namespace, and an in-process manager started on them. */
export interface RunningOperator {
  plane: ControlPlane;
  admin: KubeClient;
  manager: Manager;
  stop(): Promise<void>;
}

/** Starts a control plane with `namespace` and a manager (options as newManager's) on it; stop() ends both. */
export async function startOperatorIn(namespace: string, options: Parameters<typeof newManager>[1] = {}): Promise<RunningOperator> {
  const plane = await withControlPlane();
  try {
    const admin = adminClient(plane);
    await createNamespace(admin, namespace);
    const manager = newManager(plane, options);
    await manager.start();
    return { plane, admin, manager, stop: async () => { await manager.stop(); await plane.stop(); } };
  } catch (err) {
    await plane.stop();
    throw err;
  }
}

export function adminClient(plane: ControlPlane): KubeClient {
  return new KubeClient(plane.kubeConfig, 'kmsstack-test');
}

export async function createNamespace(client: KubeClient, name: string): Promise<void> {
  await client.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, resource: 'namespaces', verb: 'create' });
}

/** A valid KMSDeployment (StaticKey mode needs no Vault). */
export function kmsDeployment(namespace: string, name: string, spec: Record<string, unknown> = {}): KubeObject {
  return kmsDeploymentObject(namespace, name, { mode: 'StaticKey', minio: { replicas: 1, keyName: 'dev-key', autoEncryption: true, storage: { size: '1Gi' } }, ...spec });
}

export interface StatusView {
  observedGeneration?: number;
  conditions?: Array<{ type: string; status: string; reason: string; message: string; observedGeneration: number; lastTransitionTime: string }>;
}

export async function getKMSDeployment(client: KubeClient, namespace: string, name: string): Promise<(KubeObject & { status?: StatusView }) | undefined> {
  return client.get(resources.KMSDeployment, namespace, name);
}

/** A test-only step owning the condition CertificatesReady: it wants one ConfigMap per name in `names()`. */
export function configMapStep(names: () => string[], calls: { count: number } = { count: 0 }): KMSDeploymentStep {
  return {
    name: 'test-configmaps',
    condition: 'CertificatesReady',
    run: async (ctx) => {
      calls.count++;
      for (const name of names()) {
        ctx.children.add({
          apiVersion: 'v1', kind: 'ConfigMap',
          metadata: { name: `${ctx.object.metadata.name}-${name}`, labels: { 'app.kubernetes.io/name': name } },
          data: { owner: ctx.object.metadata.name as string, generation: String(ctx.object.metadata.generation) },
        });
      }
      ctx.status.certificates = { notAfter: '2030-01-01T00:00:00Z' };
      return { status: 'True', reason: 'TestChildrenApplied', message: `${names().length} test ConfigMaps` };
    },
  };
}

export async function withControlPlane(): Promise<ControlPlane> {
  return startControlPlane();
}
