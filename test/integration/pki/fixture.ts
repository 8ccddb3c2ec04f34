// Shared set-up of the PKI integration tests: a real kube-apiserver and a real Vault, the operator's
// Manager in-process with its default data path (PKI, Vault, KES, ...), and reads of what it wrote.
// There is no controller-manager: a test that needs a finished rollout writes the Deployment status.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CERTIFICATES_CHECKSUM_ANNOTATION } from '../../../src/workload/certificates.ts';
import { pkiSecretNames, secretsChecksum, type PkiSecretNames, type SecretContents } from '../../../src/pki/index.ts';
import { decodeSecretData } from '../../../src/runtime/kube/secret-data.ts';
import { resources, type KubeObject } from '../../../src/runtime/kube/resources.ts';
import type { Manager } from '../../../src/runtime/manager.ts';
import { inNamespace, kmsDeployment, withKes, withMinio, withSpec, withVault } from '../../support/kmsdeployment.ts';
import { startStack, type VaultStack } from '../../support/stack.ts';
import { getKMSDeployment, waitFor, writeCount } from '../runtime/harness.ts';

export { waitFor };

/** The PKI suites' stack: control plane, Vault, the suite's namespace prepared, the operator in-process. */
export type Stack = VaultStack & { manager: Manager };

/** Starts the PKI suites' stack for `namespace`. */
export function startPkiStack(namespace: string): Promise<Stack> {
  return startStack({ namespace, manager: {} });
}

/** A Vault-mode KMSDeployment (KES, so the whole PKI) against the test Vault; `spec` sets top-level fields. */
export function vaultDeployment(stack: Stack, name: string, spec: Record<string, unknown> = {}): KubeObject {
  return kmsDeployment(name, inNamespace(stack.namespace), withVault(stack.vault), withKes({ replicas: 2 }), withMinio({ replicas: 1, storage: { size: '1Gi' } }), withSpec(spec));
}

/** The names of the CA and leaf Secrets of deployment `name`, flat: `pkiNames(name).kesServer`. */
export function pkiNames(name: string): { ca: string } & PkiSecretNames['leaves'] {
  const { ca, leaves } = pkiSecretNames(name);
  return { ca, ...leaves };
}

export type SecretObject = KubeObject & { type?: string; data?: Record<string, string> };

export async function getSecret(stack: Stack, name: string): Promise<SecretObject | undefined> {
  return stack.kube.get<SecretObject>(resources.Secret, stack.namespace, name);
}

export async function secretContents(stack: Stack, name: string): Promise<SecretContents> {
  const secret = await getSecret(stack, name);
  if (!secret) throw new Error(`Secret ${name} does not exist`);
  return decodeSecretData(secret.data ?? {}) ?? {};
}

/**
 * Deletes a certificate Secret and waits until the operator has issued it anew (another tls.crt). A
 * reconcile that read the Secret just before the delete puts back what it read, which is a correct
 * repair but not a new certificate: the Secret is then deleted again.
 */
export async function deleteUntilReissued(stack: Stack, name: string): Promise<SecretObject> {
  const original = await getSecret(stack, name);
  if (!original) throw new Error(`Secret ${name} does not exist`);
  await stack.kube.delete(resources.Secret, stack.namespace, name, original.metadata.uid);
  return waitFor(`${name} to be issued anew`, async () => {
    const now = await getSecret(stack, name);
    if (!now) return undefined;
    if (now.data?.['tls.crt'] !== original.data?.['tls.crt']) return now;
    await stack.kube.delete(resources.Secret, stack.namespace, name, now.metadata.uid);
    return undefined;
  }, 60_000, 500);
}

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

export interface PkiStatusView {
  conditions?: Condition[];
  certificates?: { notAfter?: string; caNotAfter?: string };
  kes?: { minioIdentity?: string; operatorIdentity?: string };
}

export async function statusOf(stack: Stack, name: string): Promise<PkiStatusView> {
  return ((await getKMSDeployment(stack.kube, stack.namespace, name))?.status ?? {}) as PkiStatusView;
}

export async function conditionOf(stack: Stack, name: string, type = 'CertificatesReady'): Promise<Condition | undefined> {
  return (await statusOf(stack, name)).conditions?.find((c) => c.type === type);
}

export async function waitForCondition(stack: Stack, name: string, expect: Partial<Condition>, timeoutMs = 60_000, type = 'CertificatesReady'): Promise<Condition> {
  return waitFor(`${name} ${type} ${JSON.stringify(expect)}`, async () => {
    const found = await conditionOf(stack, name, type);
    if (!found) return undefined;
    const matches = Object.entries(expect).every(([key, value]) => found[key as keyof Condition] === value);
    return matches ? found : undefined;
  }, timeoutMs, 200);
}

type WorkloadObject = KubeObject & {
  spec?: { replicas?: number; template?: { metadata?: { annotations?: Record<string, string> } } };
  status?: Record<string, unknown>;
};

export async function kesDeployment(stack: Stack, name: string): Promise<WorkloadObject | undefined> {
  return stack.kube.get<WorkloadObject>(resources.Deployment, stack.namespace, `${name}-kes`);
}

export function certificatesAnnotation(workload: WorkloadObject | undefined): string | undefined {
  return workload?.spec?.template?.metadata?.annotations?.[CERTIFICATES_CHECKSUM_ANNOTATION];
}

/** The checksum the KES pod template must carry for the KES server Secret as it is now. */
export async function kesSecretChecksum(stack: Stack, name: string): Promise<string> {
  return secretsChecksum({ kesServer: await secretContents(stack, pkiNames(name).kesServer) }, ['kesServer']);
}

/** Plays the Deployment controller: marks the current pod template as rolled out on every replica. */
/**
 * Plays the controller-manager's part: marks the KES Deployment's current generation rolled out. With
 * `onlyAtChecksum`, only a template carrying that certificates checksum is rolled out, so a test can hold
 * the operator at one step of a rotation; the status names the generation it read, so a template the
 * operator changes meanwhile is not marked.
 */
export async function completeKesRollout(stack: Stack, name: string, onlyAtChecksum?: string): Promise<void> {
  const live = await kesDeployment(stack, name);
  if (!live) throw new Error(`Deployment ${name}-kes does not exist`);
  if (onlyAtChecksum !== undefined && certificatesAnnotation(live) !== onlyAtChecksum) return;
  const replicas = live.spec?.replicas ?? 1;
  await stack.kube.apply(
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `${name}-kes`, namespace: stack.namespace },
      status: { observedGeneration: live.metadata.generation, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas },
    },
    { subresource: 'status' },
  );
}

/** Waits until no write reached the API server for a while, then returns the write count. */
export async function settledWrites(stack: Stack, quietMs = 3000): Promise<number> {
  let previous = -1;
  return waitFor('writes to settle', async () => {
    const now = await writeCount(stack.plane);
    if (now === previous) return now;
    previous = now;
    await sleep(quietMs);
    return undefined;
  }, 90_000, 0);
}

/** Enqueues the KMSDeployment and waits until the queue has drained (the reconcile ran). */
export async function reconcileNow(stack: Stack, name: string): Promise<void> {
  stack.manager.queue.add(`${stack.namespace}/${name}`);
  await sleep(300);
  await waitFor('the queue to drain', async () => (stack.manager.queue.length === 0 ? true : undefined));
  await sleep(500);
}

/** A CA made by openssl (not by the operator's code): certificate and key PEM. */
export function opensslCA(commonName: string): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pki-it-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30',
      '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'), '-subj', `/O=Example Corp/CN=${commonName}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    return { cert: readFileSync(join(dir, 'ca.crt'), 'utf8'), key: readFileSync(join(dir, 'ca.key'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `openssl verify` of a leaf against a CA bundle; true when the chain is valid. */
export function opensslVerifies(bundlePem: string, leafPem: string, purpose: 'sslserver' | 'sslclient'): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'pki-it-'));
  try {
    const write = (file: string, text: string) => {
      writeFileSync(join(dir, file), text);
      return join(dir, file);
    };
    execFileSync('openssl', ['verify', '-purpose', purpose, '-CAfile', write('ca.pem', bundlePem), write('leaf.pem', leafPem)], { stdio: ['ignore', 'pipe', 'pipe'] });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
