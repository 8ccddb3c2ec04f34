// The Secrets MinIO reads credentials from: generated root credentials and the StaticKey-mode
// master key. Building them is pure; generating their values (crypto-random) is kept apart.
import { encodeSecretData, opaqueSecret } from '../runtime/kube/secret-data.ts';
import { randomBytes } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { stackLabels } from '../workload/labels.ts';
import type { DeploymentRef } from '../workload/names.ts';
import { minioNames, ROOT_SECRET_KEYS, STATIC_KEY_SECRET_KEY } from './names.ts';

export interface RootCredentials {
  rootUser: string;
  rootPassword: string;
}

export type RandomBytes = (size: number) => Buffer;

const alphanumerics = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomString(length: number, random: RandomBytes): string {
  let out = '';
  // Rejection sampling keeps every character equally likely (256 is not a multiple of 62).
  const limit = 256 - (256 % alphanumerics.length);
  while (out.length < length) {
    for (const byte of random(length)) {
      if (byte < limit && out.length < length) out += alphanumerics[byte % alphanumerics.length];
    }
  }
  return out;
}

/**
 * Fresh root credentials: a 20-character user and a 40-character password, the lengths MinIO itself
 * generates (MinIO accepts users of at least 3 and passwords of at least 8 characters).
 */
export function generateRootCredentials(random: RandomBytes = randomBytes): RootCredentials {
  return { rootUser: randomString(20, random), rootPassword: randomString(40, random) };
}

/** A static master key in MinIO's MINIO_KMS_SECRET_KEY format: `<key-name>:<base64 of 32 bytes>`. */
export function generateStaticKey(keyName: string, random: RandomBytes = randomBytes): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(keyName)) {
    throw new Error(`spec.minio.keyName: ${JSON.stringify(keyName)} cannot name a static key`);
  }
  return `${keyName}:${random(32).toString('base64')}`;
}

function secret(ref: DeploymentRef, name: string, data: Record<string, string>): V1Secret {
  return opaqueSecret({ name, namespace: ref.namespace, labels: stackLabels(ref.name, 'minio') },
    encodeSecretData(data));
}

export function buildRootCredentialsSecret(ref: DeploymentRef, credentials: RootCredentials): V1Secret {
  if (credentials.rootUser.length < 3) throw new Error('rootUser: MinIO needs at least 3 characters');
  if (credentials.rootPassword.length < 8) throw new Error('rootPassword: MinIO needs at least 8 characters');
  return secret(ref, minioNames(ref.name).rootSecret, { [ROOT_SECRET_KEYS.user]: credentials.rootUser,
    [ROOT_SECRET_KEYS.password]: credentials.rootPassword });
}

export function buildStaticKeySecret(ref: DeploymentRef, staticKey: string): V1Secret {
  const [name, key] = [staticKey.slice(0, staticKey.indexOf(':')), staticKey.slice(staticKey.indexOf(':') + 1)];
  if (!staticKey.includes(':') || !name || Buffer.from(key, 'base64').length !== 32) {
    throw new Error('static key: must be "<key-name>:<base64 of 32 bytes>"');
  }
  return secret(ref, minioNames(ref.name).staticKeySecret, { [STATIC_KEY_SECRET_KEY]: staticKey });
}
