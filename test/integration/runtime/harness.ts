// Shared set-up of the runtime integration tests: one real control plane per test file, an admin
// client, operator configurations for in-process managers, and test-only steps that produce children.
import { startControlPlane, WRITE_VERBS, type ControlPlane } from '../../env/controlplane.ts';
import { waitFor } from '../../env/process.ts';
import { inNamespace, kmsDeployment, withMinio, withSpec } from '../../support/kmsdeployment.ts';
import { testLogger } from '../../support/logger.ts';
import { startStack, type StartedStack } from '../../support/stack.ts';
import type { ManagerOptions } from '../../support/operator.ts';
import type { KubeClient } from '../../../src/runtime/kube/client.ts';
import { resources, type KubeObject } from '../../../src/runtime/kube/resources.ts';
import type { KMSDeploymentStep } from '../../../src/controllers/kmsdeployment/context.ts';

export { waitFor, WRITE_VERBS, testLogger };
export type { ControlPlane };

/** The resources an operator writes; apiserver's own writes (leases, endpoints...) are not counted. */
export const OPERATOR_RESOURCES = ['kmsdeployments', 'configmaps', 'secrets', 'services', 'deployments', 'statefulsets', 'events'];

export async function writeCount(plane: ControlPlane): Promise<number> {
  let total = 0;
  for (const resource of OPERATOR_RESOURCES) total += await plane.requestCount(WRITE_VERBS, resource);
  return total;
}


/** The runtime suites' stack: a control plane (no Vault) with `namespace` and an in-process operator. */
export type RunningOperator = StartedStack<{ vault: false; manager: ManagerOptions }>;

/** Starts a control plane with `namespace` and an operator (options as newManager's) on it; stop() ends both. */
export function startOperatorIn(namespace: string, options: ManagerOptions = {}): Promise<RunningOperator> {
  return startStack({ vault: false, namespace, manager: options });
}

/** The runtime suites' deployments are StaticKey ones (no Vault) whose MinIO encrypts every object. */
export const autoEncrypting = withMinio({ autoEncryption: true });

/** A StaticKey deployment whose MinIO encrypts every object, with top-level `spec` sections replaced. */
export function staticDeployment(namespace: string, name: string, spec: Record<string, unknown> = {}): KubeObject {
  return kmsDeployment(name, inNamespace(namespace), autoEncrypting, withSpec(spec));
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
