// A real Vault server for tests (HashiCorp Vault 1.13.0, MPL-2.0; the HTTP API OpenBao shares).
// Dev mode: in memory, plain HTTP, a known root token. Persistent mode: as the guide runs it, with
// file storage, TLS on a self-signed certificate, `operator init` and unseal over the HTTP API,
// so a test can seal, stop and start it without losing data. An optional file audit device
// counts the write requests Vault received.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { ManagedProcess, freePort, makeTempDir, removeTempDir, testBinary, waitFor } from './process.ts';

export interface KubernetesAuthOptions {
  kubernetesHost: string;
  kubernetesCA: string;
  /** JWT of a ServiceAccount allowed to create TokenReviews (system:auth-delegator). */
  tokenReviewerJWT?: string;
  role: string;
  boundServiceAccountNames: string[];
  boundServiceAccountNamespaces: string[];
  policies: string[];
  mountPath?: string;
  tokenTTL?: string;
  /** The audience tokens must carry (Vault passes it on in the TokenReview). */
  audience?: string;
}

export interface AuditEntry {
  operation: string;
  path: string;
  /** Policies of the token the request ran with (empty for logins and root). */
  policies: string[];
}

export interface TestVault {
  /** http://127.0.0.1:<port> (dev) or https://127.0.0.1:<port> (persistent). */
  address: string;
  /** The loopback port it listens on. */
  port: number;
  rootToken: string;
  /** PEM of the server certificate (persistent mode), to trust in clients. */
  caPem: string | undefined;
  logFile: string;
  /** A request as the root token (or `token`); resolves to status and parsed body. */
  request(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> | undefined }>;
  writePolicy(name: string, hcl: string): Promise<void>;
  enableKubernetesAuth(options: KubernetesAuthOptions): Promise<void>;
  /** Enables a file audit device (idempotent); from then on writes can be counted. */
  enableAudit(): Promise<void>;
  /** Every request logged since the audit device was enabled. */
  auditedRequests(): AuditEntry[];
  /** Non-read requests logged since the audit device was enabled (login and renewals included). */
  auditedWrites(): AuditEntry[];
  seal(): Promise<void>;
  unseal(): Promise<void>;
  /** Stops the process but keeps its data (persistent mode); dev mode loses everything. */
  halt(): Promise<void>;
  /** Starts a halted server again (and unseals it in persistent mode). */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Kills every process and removes the temp dir. */
  stop(): Promise<void>;
}

export interface StartVaultOptions {
  persistent?: boolean;
  rootToken?: string;
  /**
   * Persistent mode: more names on the server certificate (`DNS:vault.vault.svc`, `IP:10.244.0.1`), for
   * Pods of the local test cluster that reach it through the node agent's gateway forward.
   */
  extraNames?: string[];
}

function vaultBinary(): string {
  // An explicit binary wins, e.g. one built with a fix the cache does not have yet.
  return process.env.KMSSTACK_VAULT_BINARY ?? testBinary('vault');
}

/** `extraNames`: more subjectAltNames (`DNS:name` or `IP:address`), for clients that reach Vault by another name. */
export function selfSignedCertificate(dir: string, extraNames: string[] = []): { cert: string; key: string } {
  for (const name of extraNames) {
    if (!/^(DNS:[a-z0-9.-]+|IP:[\d.]+)$/.test(name)) throw new Error(`test Vault: subjectAltName ${JSON.stringify(name)} is not DNS:<name> or IP:<address>`);
  }
  const cert = join(dir, 'vault-tls.crt');
  const key = join(dir, 'vault-tls.key');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=localhost', '-addext', `subjectAltName=${['IP:127.0.0.1', 'DNS:localhost', ...extraNames].join(',')}`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  return { cert, key };
}

export async function startVault(options: StartVaultOptions = {}): Promise<TestVault> {
  const dir = makeTempDir('vault');
  const port = await freePort();
  const logFile = join(dir, 'vault.log');
  const auditFile = join(dir, 'audit.log');
  const persistent = options.persistent === true;
  // HOME in the temp dir: the dev server stores its token in ~/.vault-token.
  const env = { ...process.env, HOME: dir, VAULT_DISABLE_MLOCK: 'true', VAULT_ADDR: '', VAULT_TOKEN: '' };
  let rootToken = options.rootToken ?? `root-${Math.random().toString(36).slice(2)}`;
  let unsealKeys: string[] = [];
  let caPem: string | undefined;
  let args: string[];

  if (persistent) {
    const tls = selfSignedCertificate(dir, options.extraNames);
    caPem = readFileSync(tls.cert, 'utf8');
    const config = {
      api_addr: `https://127.0.0.1:${port}`,
      storage: { file: { path: join(dir, 'data') } },
      disable_mlock: true,
      default_lease_ttl: '168h',
      max_lease_ttl: '720h',
      listener: { tcp: { address: `127.0.0.1:${port}`, tls_cert_file: tls.cert, tls_key_file: tls.key, tls_min_version: 'tls12' } },
    };
    writeFileSync(join(dir, 'vault-config.json'), JSON.stringify(config, null, 2));
    args = ['server', `-config=${join(dir, 'vault-config.json')}`];
  } else {
    args = ['server', '-dev', `-dev-root-token-id=${rootToken}`, `-dev-listen-address=127.0.0.1:${port}`];
  }

  const address = `${persistent ? 'https' : 'http'}://127.0.0.1:${port}`;
  const agent = persistent ? new HttpsAgent({ ca: caPem, keepAlive: false }) : new HttpAgent({ keepAlive: false });
  const proc = new ManagedProcess('vault', vaultBinary(), args, logFile, env);

  const request: TestVault['request'] = (method, path, body, token) =>
    new Promise((resolve, reject) => {
      const send = persistent ? httpsRequest : httpRequest;
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      const useToken = token ?? rootToken;
      if (useToken) headers['X-Vault-Token'] = useToken;
      const req = send(`${address}/v1/${path}`, { method, headers, agent, timeout: 5000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined }));
      });
      req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${path}`)));
      req.on('error', reject);
      if (body !== undefined) req.write(JSON.stringify(body));
      req.end();
    });

  const must = async (method: string, path: string, body?: unknown) => {
    const res = await request(method, path, body);
    if (res.status >= 300) throw new Error(`test Vault: ${method} ${path} answered ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };

  const failWithLogs = (err: unknown): never => {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`${message}\ntest Vault log: ${logFile}`);
  };

  const waitListening = () =>
    waitFor('Vault to listen', async () => {
      const res = await request('GET', 'sys/health?uninitcode=200&sealedcode=200&standbycode=200', undefined, '');
      return res.status === 200 ? res.body : undefined;
    }, 30_000, 100);

  const unseal = async () => {
    for (const key of unsealKeys) {
      const res = await must('PUT', 'sys/unseal', { key });
      if (res?.['sealed'] === false) break;
    }
    await waitFor('Vault to be unsealed and active', async () => {
      const res = await request('GET', 'sys/health', undefined, '');
      return res.status === 200 ? true : undefined;
    }, 30_000, 100);
  };

  const start = async () => {
    proc.start();
    try {
      const health = await waitListening();
      if (!persistent) return;
      if (health?.['initialized'] !== true) {
        const init = await must('PUT', 'sys/init', { secret_shares: 3, secret_threshold: 2 });
        unsealKeys = (init?.['keys_base64'] as string[] | undefined) ?? [];
        rootToken = String(init?.['root_token'] ?? '');
      }
      await unseal();
    } catch (err) {
      failWithLogs(err);
    }
  };

  let auditEnabled = false;
  const handle: TestVault = {
    address,
    port,
    get rootToken() {
      return rootToken;
    },
    caPem,
    logFile,
    request,
    async writePolicy(name, hcl) {
      await must('PUT', `sys/policies/acl/${name}`, { policy: hcl });
    },
    async enableKubernetesAuth(o) {
      const mount = o.mountPath ?? 'kubernetes';
      const mounts = await must('GET', 'sys/auth');
      if (!mounts?.[`${mount}/`]) await must('POST', `sys/auth/${mount}`, { type: 'kubernetes' });
      await must('POST', `auth/${mount}/config`, {
        kubernetes_host: o.kubernetesHost,
        kubernetes_ca_cert: o.kubernetesCA,
        ...(o.tokenReviewerJWT ? { token_reviewer_jwt: o.tokenReviewerJWT } : {}),
        disable_local_ca_jwt: true,
      });
      await must('POST', `auth/${mount}/role/${o.role}`, {
        bound_service_account_names: o.boundServiceAccountNames,
        bound_service_account_namespaces: o.boundServiceAccountNamespaces,
        token_policies: o.policies,
        token_ttl: o.tokenTTL ?? '1h',
        ...(o.audience ? { audience: o.audience } : {}),
      });
    },
    async enableAudit() {
      if (auditEnabled) return;
      await must('PUT', 'sys/audit/file', { type: 'file', options: { file_path: auditFile } });
      auditEnabled = true;
    },
    auditedRequests() {
      if (!existsSync(auditFile)) return [];
      const entries: AuditEntry[] = [];
      for (const line of readFileSync(auditFile, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        const record = JSON.parse(line) as { type?: string; request?: { operation?: string; path?: string }; auth?: { policies?: string[] } };
        // Vault writes a sys/audit/test record when a device is enabled; it is not a client request.
        if (record.type === 'request' && record.request?.path !== 'sys/audit/test') {
          entries.push({ operation: record.request?.operation ?? '', path: record.request?.path ?? '', policies: record.auth?.policies ?? [] });
        }
      }
      return entries;
    },
    auditedWrites() {
      return handle.auditedRequests().filter((entry) => entry.operation !== 'read' && entry.operation !== 'list');
    },
    async seal() {
      await must('PUT', 'sys/seal');
    },
    unseal,
    async halt() {
      await proc.stop();
    },
    start,
    async restart() {
      await proc.stop();
      await start();
    },
    async stop() {
      await proc.stop();
      agent.destroy();
      removeTempDir(dir);
    },
  };
  await start();
  return handle;
}
