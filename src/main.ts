// Entry point: read the configuration, connect to Kubernetes (in-cluster config or kubeconfig), run the
// manager, and on SIGTERM/SIGINT stop gracefully (finish in-flight reconciles, release the lease, exit 0).
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError, loadConfig, loadPinnedCAs, type OperatorConfig, usage } from './config.ts';
import { exitSoon, runUntilSignalled } from './runtime/lifecycle.ts';
import { createLogger } from './runtime/logger.ts';
import { Manager } from './runtime/manager.ts';
import { kmsDeploymentController } from './controllers/kmsdeployment/controller.ts';

function loadKubeConfig(config: OperatorConfig): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (config.kubeconfig) kubeConfig.loadFromFile(config.kubeconfig);
  else kubeConfig.loadFromDefault();
  const cluster = kubeConfig.getCurrentCluster();
  // loadFromDefault falls back to http://localhost:8080 when it finds nothing; client-go refuses that, and so do we.
  if (!cluster || (cluster.name === 'cluster' && cluster.server === 'http://localhost:8080')) {
    throw new ConfigError('no Kubernetes configuration found: run in a cluster, or set --kubeconfig / $KUBECONFIG');
  }
  return kubeConfig;
}

async function main(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(usage());
    return 0;
  }
  let config: OperatorConfig;
  let kubeConfig: KubeConfig;
  let pinnedCAs: Map<string, string>;
  try {
    config = loadConfig();
    kubeConfig = loadKubeConfig(config);
    pinnedCAs = loadPinnedCAs(config);
  } catch (err) {
    if (!(err instanceof ConfigError) && !(err instanceof Error && /kubeconfig|ENOENT/i.test(err.message))) throw err;
    process.stderr.write(`kmsstack-operator: ${err.message}\n`);
    return 2;
  }
  const logger = createLogger({ level: config.logLevel, base: { identity: config.leaderElection.identity } });
  // The controllers this operator runs; the runtime knows none of them.
  const controllers = [kmsDeploymentController({ settings: config, pinnedCAs })];
  return runUntilSignalled(new Manager({ config, kubeConfig, logger, controllers }), logger);
}

main().then(exitSoon, (err: unknown) => {
  process.stderr.write(`kmsstack-operator: ${err instanceof Error ? err.stack : String(err)}\n`);
  exitSoon(1);
});
