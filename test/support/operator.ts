// The operator in-process, as main.ts wires it: its configuration for tests and a Manager running the
// KMSDeployment controller (steps and cleanups replaceable).
import { randomUUID } from 'node:crypto';
import type { ControlPlane } from '../env/controlplane.ts';
import { testLogger } from './logger.ts';
import { defaultKesImage, defaultMinioImage } from '../../src/api/index.ts';
import type { OperatorConfig } from '../../src/config.ts';
import { kmsDeploymentController, type KMSDeploymentControllerOptions } from '../../src/controllers/kmsdeployment/controller.ts';
import { Manager } from '../../src/runtime/manager.ts';
import { DEFAULT_SERVICE_ACCOUNT_TOKEN_PATH } from '../../src/vault/session.ts';
import { DEFAULT_PREFIX_TEMPLATE, parsePrefixTemplate } from '../../src/vault/tenancy.ts';

/** The operator's configuration with test timings (fast backoff, no leader election unless asked). */
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

/** Options of an in-process manager: the controller's (steps, cleanups, ...) and the operator's configuration. */
export type ManagerOptions = Omit<KMSDeploymentControllerOptions, 'settings'> & { config?: OperatorConfig };

/** An in-process manager running the KMSDeployment controller as main.ts registers it. */
export function newManager(plane: ControlPlane, options: ManagerOptions = {}): Manager {
  const { config = testConfig(), ...controller } = options;
  return new Manager({ kubeConfig: plane.kubeConfig, logger: testLogger(), config, controllers: [kmsDeploymentController({ settings: config, ...controller })] });
}

/** Where the operator is installed (the chart's and deploy/'s namespace). */
export const OPERATOR_NAMESPACE = 'kmsstack-system';
/** The ServiceAccount the operator runs as. */
export const OPERATOR_SERVICE_ACCOUNT = 'kmsstack-operator';
