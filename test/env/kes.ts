// A real KES server for tests, run from the config the operator renders: the file paths and listen
// address are rewritten for a local process, nothing else, so what KES enforces (policies, the Vault
// key store) is exactly what the operator generated.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import type { KesConfig } from '../../src/kes/config.ts';
import { requireProgram } from './programs.ts';
import { ManagedProcess, freePort, httpStatus, makeTempDir, removeTempDir, waitFor } from './process.ts';

export interface TestKes {
  url: string;
  port: number;
  logFile: string;
  stop(): Promise<void>;
}

export interface StartKesOptions {
  config: KesConfig;
  tls: { cert: string; key: string };
  /** PEM of the CA that signed tls.cert, to check KES's answer to the readiness probe. */
  ca: string;
  /** PEM the Vault server certificate is checked against (persistent Vault). */
  vaultCa?: string;
  /** The AppRole credentials KES reads from its environment. */
  env: Record<string, string>;
  /** Listen on this port (a restarted KES keeps its address); default a free one. */
  port?: number;
}

export async function startKes(options: StartKesOptions): Promise<TestKes> {
  const binary = requireProgram('kes');
  const dir = makeTempDir('kes');
  const port = options.port ?? (await freePort());
  const files = { cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key'), vaultCa: join(dir, 'vault-ca.crt'), config: join(dir, 'config.yaml') };
  writeFileSync(files.cert, options.tls.cert);
  writeFileSync(files.key, options.tls.key, { mode: 0o600 });
  const config = structuredClone(options.config);
  config.address = `127.0.0.1:${port}`;
  config.tls = { cert: files.cert, key: files.key };
  if (options.vaultCa) {
    writeFileSync(files.vaultCa, options.vaultCa);
    config.keystore.vault.tls = { ca: files.vaultCa };
  } else {
    delete config.keystore.vault.tls;
  }
  writeFileSync(files.config, yaml.dump(config));
  const logFile = join(dir, 'kes.log');
  const kes = new ManagedProcess('kes', binary, ['server', '--config', files.config], logFile, { ...process.env, ...options.env }).start();
  const url = `https://127.0.0.1:${port}`;
  try {
    // /v1/ready needs no client certificate (skip_auth) and answers 200 once KES reaches Vault.
    await waitFor('KES /v1/ready', () => httpStatus(new URL('/v1/ready', url).href, options.ca).then((s) => (s === 200 ? true : undefined)), 30_000, 200);
  } catch (err) {
    await kes.stop();
    throw err;
  }
  return {
    url,
    port,
    logFile,
    stop: async () => {
      await kes.stop();
      removeTempDir(dir);
    },
  };
}
