// A real MinIO server for tests, started with the environment the operator renders for its
// StatefulSet (src/minio/env.ts): values from Secrets and the mounted KES identity are filled in
// from files in a temp dir, and the KES endpoint points at a local KES. Nothing else is changed.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1EnvVar } from '@kubernetes/client-node';
import { S3Client } from '@aws-sdk/client-s3';
import type { DefaultedKMSDeploymentSpec } from '../../src/api/index.ts';
import { buildMinioEnv, minioEnvNames } from '../../src/minio/env.ts';
import type { KesOnVault } from './kes-on-vault.ts';
import { requireProgram } from './programs.ts';
import { ManagedProcess, freePorts, httpStatus, makeTempDir, removeTempDir, waitFor } from './process.ts';

export interface TestMinio {
  /** http://127.0.0.1:<port> */
  url: string;
  rootUser: string;
  rootPassword: string;
  dataDir: string;
  logFile: string;
  /**
   * Stops MinIO and starts it again with `env` (a rolled pod), keeping its data; waits until it is
   * ready, or only live (MinIO is not ready while it cannot generate with its default key).
   */
  restart(env: V1EnvVar[], until?: Probe): Promise<void>;
  /** HTTP status of /minio/health/<probe>. */
  health(probe: Probe): Promise<number>;
  stop(): Promise<void>;
}

type Probe = 'ready' | 'live';

export interface StartMinioOptions {
  /** The container env the operator rendered. */
  env: V1EnvVar[];
  kesUrl: string;
  /** MinIO's KES client identity and the CA that signed KES's certificate. */
  kesIdentity: { cert: string; key: string; ca: string };
}

/** A MinIO with the env the operator builds for `spec`, encrypting through `kes`'s KES, and an S3 client of its root user. */
export async function startMinioOnKes(kes: KesOnVault, spec: DefaultedKMSDeploymentSpec): Promise<{ minio: TestMinio; s3: S3Client }> {
  const minio = await startMinio({ env: buildMinioEnv(kes.ref, spec), kesUrl: kes.kes.url, kesIdentity: { ...kes.minioClient, ca: kes.ca.cert } });
  const credentials = { accessKeyId: minio.rootUser, secretAccessKey: minio.rootPassword };
  return { minio, s3: new S3Client({ endpoint: minio.url, region: 'us-east-1', forcePathStyle: true, credentials }) };
}

export async function startMinio(options: StartMinioOptions): Promise<TestMinio> {
  const binary = requireProgram('minio');
  const dir = makeTempDir('minio');
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  const files = { cert: join(dir, 'kes-tls.crt'), key: join(dir, 'kes-tls.key'), ca: join(dir, 'kes-ca.crt') };
  writeFileSync(files.cert, options.kesIdentity.cert);
  writeFileSync(files.key, options.kesIdentity.key, { mode: 0o600 });
  writeFileSync(files.ca, options.kesIdentity.ca);
  const [port, consolePort] = await freePorts(2);
  const root = { user: 'kmsstack-test', password: 'kmsstack-test-password' };
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(dir, 'minio.log');

  const environment = (env: V1EnvVar[]): NodeJS.ProcessEnv => {
    const local: Record<string, string> = {
      [minioEnvNames.rootUser]: root.user,
      [minioEnvNames.rootPassword]: root.password,
      [minioEnvNames.kesEndpoint]: options.kesUrl,
      [minioEnvNames.kesCertFile]: files.cert,
      [minioEnvNames.kesKeyFile]: files.key,
      [minioEnvNames.kesCaPath]: files.ca,
    };
    const rendered = Object.fromEntries(env.map((e) => [e.name, local[e.name] ?? e.value ?? '']));
    return { PATH: process.env.PATH, HOME: dir, MINIO_BROWSER: 'off', ...rendered };
  };

  let server: ManagedProcess | undefined;
  const start = async (env: V1EnvVar[], until: Probe = 'ready') => {
    server = new ManagedProcess('minio', binary, ['server', dataDir, '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`], logFile, environment(env)).start();
    try {
      await waitFor(`MinIO /minio/health/${until}`, () => httpStatus(`${url}/minio/health/${until}`).then((s) => (s === 200 ? true : undefined)), 60_000, 250);
    } catch (err) {
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '(no log)';
      throw new Error(`${(err as Error).message}; MinIO's log ends with:\n${log}`);
    }
  };
  await start(options.env);
  return {
    url,
    rootUser: root.user,
    rootPassword: root.password,
    dataDir,
    logFile,
    restart: async (env, until) => {
      await server?.stop();
      await start(env, until);
    },
    health: (probe) => httpStatus(`${url}/minio/health/${probe}`),
    stop: async () => {
      await server?.stop();
      removeTempDir(dir);
    },
  };
}
