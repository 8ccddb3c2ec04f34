// The S3 calls the operator makes on MinIO to manage spec.minio.buckets, behind a narrow typed
// interface. @aws-sdk/client-s3 is loaded with a dynamic import() on the first connect, i.e. only
// by an operator that manages a deployment with buckets, so an operator without any keeps its idle
// memory. The endpoint is a URL (http or https) and the CA an optional PEM bundle, so the client
// works with MinIO's S3 on plain HTTP and on TLS with the deployment's CA alike.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';

/** How one bucket stands in MinIO. */
export interface ObservedBucket {
  exists: boolean;
  /** The key id of the default SSE-KMS encryption (without MinIO's `arn:aws:kms:` prefix), or undefined without one. */
  kmsKey: string | undefined;
  /** The default encryption's algorithm (`aws:kms`, `AES256`), or undefined without one. */
  algorithm: string | undefined;
  versioning: 'Enabled' | 'Suspended' | undefined;
  /** Only asked when `checkObjectLock` is given to inspect(); else undefined. */
  objectLock: boolean | undefined;
}

/** The bucket calls of the buckets step; a MinIO S3 client, or a stand-in in unit tests. */
export interface BucketOps {
  inspect(name: string, checkObjectLock: boolean): Promise<ObservedBucket>;
  /** Creates the bucket (with object lock when asked); an existing bucket of the same owner is not an error. */
  create(name: string, objectLock: boolean): Promise<void>;
  enableVersioning(name: string): Promise<void>;
  /** Default encryption SSE-KMS with `keyId` for objects written without encryption headers. */
  setDefaultKmsEncryption(name: string, keyId: string): Promise<void>;
  close(): void;
}

export interface BucketClientOptions {
  /** MinIO's S3 endpoint, e.g. http://tenant-a-minio.storage.svc.cluster.local:9000. */
  endpoint: string;
  /** PEM CA bundle MinIO's S3 certificate is checked against (https endpoints); default the system's. */
  caPem?: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Per-request deadline (connect to last byte); default 10 s. */
  timeoutMs?: number;
}

/** A failed S3 call: the operation, the bucket, and S3's error code; never a credential. */
export class BucketCallError extends Error {
  constructor(
    readonly operation: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const KMS_ARN_PREFIX = 'arn:aws:kms:';

interface S3Failure {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

function codeOf(err: unknown): string {
  const e = err as S3Failure;
  return e.name ?? e.code ?? 'Error';
}

function statusOf(err: unknown): number | undefined {
  return (err as S3Failure).$metadata?.httpStatusCode;
}

/** Opens a client on MinIO's S3 endpoint; loads the AWS SDK on first use. */
export async function connectBuckets(options: BucketClientOptions): Promise<BucketOps> {
  const url = new URL(options.endpoint);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`MinIO S3 endpoint ${options.endpoint} must be an http:// or https:// URL`);
  }
  const loaded = await import('@aws-sdk/client-s3');
  // The SDK is CommonJS: bundled into a chunk of its own (esbuild --splitting) its exports arrive as the default export.
  const s3 = typeof loaded.S3Client === 'function' ? loaded : (loaded as unknown as { default: typeof loaded }).default;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const agent = url.protocol === 'https:'
    ? new HttpsAgent({ keepAlive: true, ...(options.caPem ? { ca: options.caPem } : {}) })
    : new HttpAgent({ keepAlive: true });
  const client = new s3.S3Client({
    endpoint: options.endpoint,
    // MinIO ignores the region; the SDK needs one to sign.
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    requestHandler: url.protocol === 'https:'
      ? { httpsAgent: agent, requestTimeout: timeoutMs, connectionTimeout: timeoutMs }
      : { httpAgent: agent, requestTimeout: timeoutMs, connectionTimeout: timeoutMs },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 2,
  });

  const call = async <T>(operation: string, bucket: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      const code = codeOf(err);
      // S3's message is about the request (bucket, key id); the SDK never puts the credentials in it.
      const detail = (err as S3Failure).message ?? '';
      throw new BucketCallError(operation, code,
        `${operation} of bucket ${bucket}: ${code}${detail && detail !== code ? ` (${detail.slice(0, 300)})` : ''}`);
    }
  };
  const optional = async <T>(run: () => Promise<T>,
    absent: (code: string, status: number | undefined) => boolean): Promise<T | undefined> =>
  {
    try {
      return await run();
    } catch (err) {
      if (absent(codeOf(err), statusOf(err))) return undefined;
      throw err;
    }
  };

  return {
    async inspect(name, checkObjectLock) {
      const exists = await call('check', name,
        () =>
          optional(() => client.send(new s3.HeadBucketCommand({ Bucket: name })).then(() => true), (code, status) =>
            status === 404 || code === 'NotFound' || code === 'NoSuchBucket'));
      if (!exists) {
        return { exists: false, kmsKey: undefined, algorithm: undefined, versioning: undefined, objectLock: undefined };
      }
      const encryption = await call('read the default encryption', name,
        () =>
          optional(() => client.send(new s3.GetBucketEncryptionCommand({ Bucket: name })), (code) =>
            code === 'ServerSideEncryptionConfigurationNotFoundError'));
      const rule = encryption?.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
      const versioning = await call('read versioning', name,
        () => client.send(new s3.GetBucketVersioningCommand({ Bucket: name })));
      const lock = checkObjectLock
        ? await call('read object lock', name,
          () =>
            optional(() => client.send(new s3.GetObjectLockConfigurationCommand({ Bucket: name })), (code) =>
              code === 'ObjectLockConfigurationNotFoundError'))
        : undefined;
      const keyId = rule?.KMSMasterKeyID;
      return {
        exists: true,
        kmsKey: keyId ? (keyId.startsWith(KMS_ARN_PREFIX) ? keyId.slice(KMS_ARN_PREFIX.length) : keyId) : undefined,
        algorithm: rule?.SSEAlgorithm,
        versioning: versioning.Status === 'Enabled' || versioning.Status === 'Suspended'
          ? versioning.Status
          : undefined,
        objectLock: checkObjectLock ? lock?.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled' : undefined,
      };
    },
    async create(name, objectLock) {
      await call('create', name, () =>
        optional(
          () =>
            client.send(
              new s3.CreateBucketCommand({ Bucket: name, ...(objectLock ? { ObjectLockEnabledForBucket: true } : {}) }),
            ),
          (code) => code === 'BucketAlreadyOwnedByYou',
        ));
    },
    async enableVersioning(name) {
      await call('enable versioning', name, () =>
        client.send(
          new s3.PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }),
        ));
    },
    async setDefaultKmsEncryption(name, keyId) {
      await call('set the default encryption', name, () =>
        client.send(
          new s3.PutBucketEncryptionCommand({
            Bucket: name,
            ServerSideEncryptionConfiguration: {
              Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyId } }],
            },
          }),
        ));
    },
    close() {
      client.destroy();
      agent.destroy();
    },
  };
}
