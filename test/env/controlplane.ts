// A real Kubernetes control plane for tests, as controller-runtime's envtest starts it: etcd and
// kube-apiserver (built by `npm run testbin`) on free loopback ports, RBAC on, ServiceAccount
// tokens signed, an admin identity in system:masters. There is no controller-manager and no
// kubelet: no garbage collection, no Pods, no workload status.
import { execFile } from 'node:child_process';
import { readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Agent, request } from 'node:https';
import * as k8s from '@kubernetes/client-node';
import * as yaml from 'js-yaml';
import { createControlPlanePKI, readPem, type ControlPlanePKI } from './pki.ts';
import { ManagedProcess, freePorts, makeTempDir, removeTempDir, repoRoot, stopOnce, testBinary, waitFor } from './process.ts';

const execFileAsync = promisify(execFile);

/** The verb labels kube-apiserver's apiserver_request_total gives to requests that write. */
export const WRITE_VERBS = ['POST', 'PUT', 'PATCH', 'APPLY', 'DELETE', 'DELETECOLLECTION'];

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  server: string;
  /** PEM of the CA that signed the API server's certificate. */
  caPem: string;
  /** Admin (system:masters) kubeconfig, as an object and as a file for kubectl or a child process. */
  kubeConfig: k8s.KubeConfig;
  kubeconfigPath: string;
  /** Runs the kubectl built for this Kubernetes version with the admin kubeconfig. */
  kubectl(args: string[], input?: string): Promise<{ stdout: string; stderr: string }>;
  /** A ServiceAccount token from the TokenRequest API (namespace and account are created if missing). */
  mintServiceAccountToken(namespace: string, serviceAccount: string, options?: { audiences?: string[]; expirationSeconds?: number }): Promise<string>;
  /** A kubeconfig (object and file) that authenticates with `token` instead of the admin certificate. */
  kubeConfigForToken(token: string, name: string): { kubeConfig: k8s.KubeConfig; path: string };
  /** GET on the API server as admin, e.g. '/metrics'. */
  getRaw(path: string): Promise<string>;
  /** Sum of apiserver_request_total for the given verbs (e.g. write verbs), optionally for one resource. */
  requestCount(verbs: string[], resource?: string): Promise<number>;
  restartApiServer(): Promise<void>;
  stopApiServer(): Promise<void>;
  startApiServer(): Promise<void>;
  etcdEndpoint: string;
  /** The CA, the ServiceAccount signing keys and the temp dir, for what runs next to the API server (startCluster). */
  pki: ControlPlanePKI;
  dir: string;
  /** A kubeconfig file for `userName` with the given user entry (client certificate or token). */
  writeKubeconfig(name: string, userName: string, user: Record<string, string>): string;
  /** Stops every process and removes the temp dir (kept, with log paths printed, when keepLogs is set). */
  stop(options?: { keepLogs?: boolean }): Promise<void>;
  logs: { etcd: string; apiserver: string };
}

export interface ControlPlaneOptions {
  /** Install crds/*.yaml and wait until established (default true). */
  installCRDs?: boolean;
  /** Extra kube-apiserver flags. */
  apiServerFlags?: string[];
  /**
   * Run the ServiceAccount admission plugin (default false: with no ServiceAccount controller, Pods would be
   * refused for want of a `default` account). startCluster() turns it on: Pods then get their token volume.
   */
  serviceAccountAdmission?: boolean;
  /** More IP addresses in the API server's certificate (where a cluster's Pods reach it). */
  apiServerAddresses?: string[];
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const dir = makeTempDir('controlplane');
  const pki = createControlPlanePKI(dir, options.apiServerAddresses ?? []);
  const [etcdPort, etcdPeerPort, apiPort] = await freePorts(3);
  const etcdEndpoint = `http://127.0.0.1:${etcdPort}`;
  const server = `https://127.0.0.1:${apiPort}`;
  const logs = { etcd: join(dir, 'etcd.log'), apiserver: join(dir, 'kube-apiserver.log') };

  const etcd = new ManagedProcess('etcd', testBinary('etcd'), [
    '--name=test', `--data-dir=${join(dir, 'etcd-data')}`,
    `--listen-client-urls=${etcdEndpoint}`, `--advertise-client-urls=${etcdEndpoint}`,
    `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`, `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
    `--initial-cluster=test=http://127.0.0.1:${etcdPeerPort}`,
    '--unsafe-no-fsync', '--log-level=warn',
  ], logs.etcd);

  const apiserver = new ManagedProcess('kube-apiserver', testBinary('kube-apiserver'), [
    '--advertise-address=127.0.0.1', '--bind-address=127.0.0.1', `--secure-port=${apiPort}`,
    `--etcd-servers=${etcdEndpoint}`, `--cert-dir=${join(dir, 'apiserver-certs')}`,
    `--tls-cert-file=${pki.serverCert}`, `--tls-private-key-file=${pki.serverKey}`, `--client-ca-file=${pki.caCert}`,
    '--authorization-mode=RBAC', '--service-cluster-ip-range=10.0.0.0/24', '--allow-privileged=true',
    ...(options.serviceAccountAdmission ? [] : ['--disable-admission-plugins=ServiceAccount']),
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.serviceAccountPub}`, `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    '--profiling=false', '--v=1',
    ...(options.apiServerFlags ?? []),
  ], logs.apiserver);

  const caPem = readPem(pki.caCert);
  const adminAgent = new Agent({ ca: caPem, cert: readPem(pki.adminCert), key: readPem(pki.adminKey), keepAlive: false });
  const getRaw = (path: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const req = request(`${server}${path}`, { agent: adminAgent, timeout: 5000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${path}: ${res.statusCode} ${body.slice(0, 200)}`))));
      });
      req.on('timeout', () => req.destroy(new Error(`GET ${path}: timeout`)));
      req.on('error', reject);
      req.end();
    });
  const waitReady = () => waitFor('kube-apiserver /readyz', async () => ((await getRaw('/readyz')) === 'ok' ? true : undefined), 60_000, 200);

  const kubeconfigYaml = (userName: string, user: Record<string, string>) =>
    yaml.dump({
      apiVersion: 'v1', kind: 'Config',
      clusters: [{ name: 'test', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
      users: [{ name: userName, user }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: userName, namespace: 'default' } }],
      'current-context': 'test',
    });
  const kubeconfigPath = join(dir, 'admin.kubeconfig');
  writeFileSync(kubeconfigPath, kubeconfigYaml('admin', {
    'client-certificate-data': Buffer.from(readPem(pki.adminCert)).toString('base64'),
    'client-key-data': Buffer.from(readPem(pki.adminKey)).toString('base64'),
  }), { mode: 0o600 });
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);

  const kubectlPath = testBinary('kubectl');
  const kubectl = async (args: string[], input?: string) => {
    const child = execFileAsync(kubectlPath, ['--kubeconfig', kubeconfigPath, ...args], { maxBuffer: 32 * 1024 * 1024 });
    if (input !== undefined) {
      child.child.stdin?.end(input);
    }
    return child;
  };

  const stop = stopOnce(async (stopOptions: { keepLogs?: boolean } = {}) => {
    adminAgent.destroy();
    await apiserver.stop();
    await etcd.stop();
    if (stopOptions.keepLogs) {
      console.error(`control plane logs kept: ${logs.etcd} ${logs.apiserver}`);
    } else {
      removeTempDir(dir);
    }
  });

  try {
    etcd.start();
    apiserver.start();
    await waitReady();
    if (options.installCRDs !== false) await installCRDs(kubectl);
  } catch (err) {
    await stop({ keepLogs: true });
    throw err;
  }

  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const ignoreConflict = (err: unknown) => {
    if ((err as { code?: number }).code !== 409) throw err;
  };
  const mintServiceAccountToken: ControlPlane['mintServiceAccountToken'] = async (namespace, serviceAccount, tokenOptions = {}) => {
    await core.createNamespace({ body: { metadata: { name: namespace } } }).catch(ignoreConflict);
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: serviceAccount } } }).catch(ignoreConflict);
    const response = await core.createNamespacedServiceAccountToken({
      name: serviceAccount, namespace,
      body: { spec: { audiences: tokenOptions.audiences ?? [], expirationSeconds: tokenOptions.expirationSeconds ?? 3600 } },
    });
    const token = response.status?.token;
    if (!token) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} returned no token`);
    return token;
  };

  let tokenConfigs = 0;
  const kubeConfigForToken: ControlPlane['kubeConfigForToken'] = (token, name) => {
    const path = join(dir, `${name}-${++tokenConfigs}.kubeconfig`);
    writeFileSync(path, kubeconfigYaml(name, { token }), { mode: 0o600 });
    const config = new k8s.KubeConfig();
    config.loadFromFile(path);
    return { kubeConfig: config, path };
  };

  const requestCount: ControlPlane['requestCount'] = async (verbs, resource) => {
    const text = await getRaw('/metrics');
    let total = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith('apiserver_request_total{')) continue;
      const verb = /verb="([^"]*)"/.exec(line)?.[1];
      const res = /resource="([^"]*)"/.exec(line)?.[1];
      if (verb && verbs.includes(verb) && (resource === undefined || res === resource)) total += Number(line.split(' ').pop());
    }
    return total;
  };

  return {
    server, caPem, kubeConfig, kubeconfigPath, kubectl, mintServiceAccountToken, kubeConfigForToken, getRaw, requestCount,
    etcdEndpoint, logs, stop, pki, dir,
    writeKubeconfig: (name, userName, user) => {
      const path = join(dir, `${name}.kubeconfig`);
      writeFileSync(path, kubeconfigYaml(userName, user), { mode: 0o600 });
      return path;
    },
    restartApiServer: async () => {
      await apiserver.restart();
      await waitReady();
    },
    stopApiServer: () => apiserver.stop(),
    startApiServer: async () => {
      apiserver.start();
      await waitReady();
    },
  };
}

async function installCRDs(kubectl: ControlPlane['kubectl']): Promise<void> {
  const crdDir = join(repoRoot, 'crds');
  if (!existsSync(crdDir) || !readdirSync(crdDir).some((f) => f.endsWith('.yaml'))) return;
  await kubectl(['apply', '--server-side', '--field-manager=kmsstack-test', '-f', crdDir]);
  // `kubectl wait` fails outright while a new CRD has no status yet, so poll the condition instead.
  await waitFor('the CRDs to be established', async () => {
    type Crd = { status?: { conditions?: { type: string; status: string }[] } };
    const parsed = JSON.parse((await kubectl(['get', '-f', crdDir, '-o', 'json'])).stdout) as Crd & { items?: Crd[] };
    const crds = parsed.items ?? [parsed];
    const established = (crd: Crd) => crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    return crds.every(established) ? true : undefined;
  }, 60_000, 100);
}
