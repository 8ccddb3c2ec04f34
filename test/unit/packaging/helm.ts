// Renders the Helm chart with the helm binary built by `npm run testbin`, for the packaging tests.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as yaml from 'js-yaml';
import { testBinary } from '../../env/process.ts';
import { OPERATOR_NAMESPACE } from '../../support/operator.ts';

const execFileAsync = promisify(execFile);

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const chartDir = join(repoRoot, 'charts/kmsstack-operator');
/** The Kubernetes version the test control plane runs; helm template checks Chart.yaml's kubeVersion against it. */
export const kubeVersion = 'v1.36.3';
export const releaseName = 'kmsstack-operator';
export const releaseNamespace = OPERATOR_NAMESPACE;

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface HelmResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs helm; never throws on a non-zero exit, so tests can assert on failures. */
export async function helm(args: string[]): Promise<HelmResult> {
  try {
    const { stdout, stderr } = await execFileAsync(testBinary('helm'), args, { maxBuffer: 16 * 1024 * 1024 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const failure = err as { stdout?: string; stderr?: string; code?: number };
    if (typeof failure.code !== 'number') throw err;
    return { stdout: failure.stdout ?? '', stderr: failure.stderr ?? '', code: failure.code };
  }
}

/** `helm template` arguments for the chart with `values` in a values file (JSON is YAML). */
async function withValuesFile<T>(values: unknown, run: (file: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'kmsstack-helm-'));
  try {
    const file = join(dir, 'values.yaml');
    writeFileSync(file, JSON.stringify(values ?? {}));
    return await run(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function templateArgs(valuesFile: string, namespace = releaseNamespace): string[] {
  return ['template', releaseName, chartDir, '--namespace', namespace, '--kube-version', kubeVersion, '--values', valuesFile];
}

/** helm template with `values`; the raw result (for error tests). */
export function helmTemplate(values: unknown = {}, namespace = releaseNamespace): Promise<HelmResult> {
  return withValuesFile(values, (file) => helm(templateArgs(file, namespace)));
}

/** The rendered manifest as text; fails with helm's message when rendering fails. */
export async function renderManifest(values: unknown = {}, namespace = releaseNamespace): Promise<string> {
  const result = await helmTemplate(values, namespace);
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return result.stdout;
}

export function parseManifest(text: string): KubeObject[] {
  return yaml.loadAll(text).filter((doc): doc is KubeObject => doc !== null && typeof doc === 'object');
}

/** The objects helm template renders for `values`. */
export async function renderChart(values: unknown = {}, namespace = releaseNamespace): Promise<KubeObject[]> {
  return parseManifest(await renderManifest(values, namespace));
}

export function findObject(objects: KubeObject[], kind: string, name?: string, namespace?: string): KubeObject {
  const found = objects.filter(
    (o) => o.kind === kind && (name === undefined || o.metadata.name === name) && (namespace === undefined || o.metadata.namespace === namespace),
  );
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}${namespace ? ` in ${namespace}` : ''}, found ${found.length}`);
  }
  return found[0] as KubeObject;
}
