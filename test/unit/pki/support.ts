// Shared helpers of the PKI tests: openssl in a scratch directory, and a reconcile loop over in-memory
// Secrets that runs the real observe -> plan -> materialize -> render chain.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  certificatesStatus,
  createCA,
  defaultPkiPolicy,
  issueClientCertificate,
  kesServerDnsNames,
  materializePki,
  observePki,
  pkiSecretNames,
  planCertificates,
  renderPkiSecrets,
  type IssuedAuthority,
  type IssuedCertificate,
  type LeafKind,
  type PkiDesired,
  type PkiMaterial,
  type PlanResult,
  type SecretContents,
} from '../../../src/pki/index.ts';

export const hour = 3_600_000;
export const day = 24 * hour;
export const T0 = new Date('2030-01-01T00:00:00Z');
export const at = (ms: number): Date => new Date(T0.getTime() + ms);

/** A test CA named `commonName`, valid for 30 days from T0. */
export const testCA = (commonName: string): Promise<IssuedAuthority> => createCA({ subject: { commonName }, validityMs: 30 * day, now: T0 });

/** A client certificate named `commonName` that `ca` issued at T0, valid for a day. */
export const testClientCertificate = (ca: IssuedAuthority, commonName: string): Promise<IssuedCertificate> =>
  issueClientCertificate({ ca: ca.authority, subject: { commonName }, validityMs: day, now: T0 });

/** A scratch directory for openssl's files; call cleanup() when done. */
export class OpenSSL {
  readonly dir = mkdtempSync(join(tmpdir(), 'pki-test-'));
  private counter = 0;

  file(text: string | Buffer, name = `f${this.counter++}.pem`): string {
    const path = join(this.dir, name);
    writeFileSync(path, text);
    return path;
  }

  run(args: string[], input?: string | Buffer): Buffer {
    return execFileSync('/usr/bin/openssl', args, { input: input ?? '', stdio: ['pipe', 'pipe', 'pipe'] });
  }

  text(args: string[], input?: string | Buffer): string {
    return this.run(args, input).toString('utf8');
  }

  /** `openssl verify` of `leafPem` against `caPem` at `when`; returns [ok, output]. */
  verify(caPem: string, leafPem: string, when: Date, purpose?: 'sslserver' | 'sslclient'): [boolean, string] {
    const args = ['verify', '-attime', String(Math.floor(when.getTime() / 1000)), '-CAfile', this.file(caPem)];
    if (purpose) args.push('-purpose', purpose);
    args.push(this.file(leafPem));
    try {
      return [true, this.text(args)];
    } catch (error) {
      const e = error as { stdout?: Buffer; stderr?: Buffer };
      return [false, `${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`];
    }
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const deployment = { name: 'tenant-a', namespace: 'storage' };
export const names = pkiSecretNames(deployment.name);

export function desired(overrides: Partial<PkiDesired> = {}): PkiDesired {
  return { ...defaultPkiPolicy, serverDnsNames: kesServerDnsNames(deployment.name, deployment.namespace), ...overrides };
}

/** The Secrets of one deployment as the API server would hold them (decoded). */
export interface SecretStore {
  ca: SecretContents | undefined;
  leaves: Partial<Record<LeafKind, SecretContents | undefined>>;
}

export interface ReconcileOptions {
  now: Date;
  workloadsSettled?: boolean;
  desired?: PkiDesired;
  /** Name of the user's CA Secret; then store.ca is that Secret and is never written. */
  userCASecret?: string;
}

export interface ReconcileOutcome {
  result: PlanResult;
  material?: PkiMaterial;
  store: SecretStore;
  status: ReturnType<typeof certificatesStatus>;
}

/** One PKI step of a reconcile against an in-memory store, as the controller will run it. */
export async function reconcile(store: SecretStore, options: ReconcileOptions): Promise<ReconcileOutcome> {
  const want = options.desired ?? desired();
  const userCA = options.userCASecret !== undefined;
  const observation = await observePki(store, { caSecretName: options.userCASecret ?? names.ca, userCA, now: options.now });
  const result = planCertificates({ desired: want, observation, now: options.now, workloadsSettled: options.workloadsSettled ?? true });
  if (!result.ok) return { result, store, status: certificatesStatus(result) };
  const material = await materializePki({ plan: result.plan, observation, desired: want, deployment, now: options.now });
  const rendered = renderPkiSecrets(material, names);
  const next: SecretStore = {
    ca: rendered.ca ? rendered.ca.stringData : store.ca,
    leaves: { ...store.leaves },
  };
  for (const [kind, secret] of Object.entries(rendered.leaves)) next.leaves[kind as LeafKind] = secret.stringData;
  return { result, material, store: next, status: certificatesStatus(result, material) };
}

export function accepted(result: PlanResult): Extract<PlanResult, { ok: true }>['plan'] {
  if (!result.ok) throw new Error(`plan refused: ${result.message}`);
  return result.plan;
}
