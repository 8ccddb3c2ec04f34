// How the node agent turns a container into a local process: the image names a program (the KES image runs
// `kes`, the MinIO image `minio`, the operator's image `node [flags] dist/main.js` of this checkout), command and
// args apply as the image's entrypoint would take them, and the environment is resolved from values,
// Secrets, ConfigMaps and downward-API fields. An image with no local program is refused, naming it.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { findProgram } from '../programs.ts';
import { repoRoot } from '../process.ts';
import { NotYet, Refused, podField } from './volumes.ts';
import { OPERATOR_NODE_FLAGS } from '../../support/operator-command.ts';

export interface ProcessSpec {
  file: string;
  argv: string[];
  /** Where the process starts when the container names no workingDir (the image's WORKDIR). */
  cwd: string;
}

/** The repository's last path segment: `quay.io/minio/kes:2025…` and `minio/kes@sha256:…` are both `kes`. */
export function imageName(image: string): string {
  const withoutDigest = image.split('@')[0]!;
  const lastSegment = withoutDigest.split('/').pop()!;
  return lastSegment.split(':')[0]!;
}

/** The process a container runs, or Refused naming the image (or the command the image cannot run). */
export function containerProcess(container: k8s.V1Container): ProcessSpec {
  const image = container.image ?? '';
  const name = imageName(image);
  const command = container.command ?? [];
  const args = container.args ?? [];
  const field = `container ${container.name}`;
  const program = (which: 'kes' | 'minio') => {
    const file = findProgram(which);
    if (!file) throw new Refused(`${field}: image ${image} runs ${which}, which is not installed (docs/testing.md)`);
    return file;
  };
  const commandIs = (...names: string[]) => command.length > 0 && names.includes(basename(command[0]!));
  const refuseCommand = () => {
    throw new Refused(`${field}: image ${image} has no command '${command[0]}' here (only its program is emulated)`);
  };

  if (name === 'kes') {
    if (command.length && !commandIs('kes')) refuseCommand();
    return { file: program('kes'), argv: [...command.slice(1), ...args], cwd: '/' };
  }
  if (name === 'minio') {
    // The image's entrypoint script runs `minio "$@"`, and its CMD is `minio`; a leading `minio` is dropped.
    if (command.length && !commandIs('minio', 'docker-entrypoint.sh')) refuseCommand();
    const all = [...command.slice(1), ...args];
    return { file: program('minio'), argv: all[0] === 'minio' ? all.slice(1) : all, cwd: '/' };
  }
  if (name === 'kmsstack-operator') {
    const main = join(repoRoot, 'dist', 'main.js');
    if (!existsSync(main)) throw new Refused(`${field}: image ${image} runs ${main}, which is not built (npm run build)`);
    if (!command.length) return { file: process.execPath, argv: [...OPERATOR_NODE_FLAGS, main, ...args], cwd: repoRoot }; // the image's ENTRYPOINT
    // `node [--flag ...] dist/main.js [args]`, as the chart writes it (OPERATOR_COMMAND).
    const script = command.indexOf('dist/main.js');
    const flags = command.slice(1, Math.max(script, 1));
    if (!(commandIs('node') && script > 0 && flags.every((flag) => /^--[a-z0-9-]+(=[\w.-]*)?$/.test(flag)))) refuseCommand();
    return { file: process.execPath, argv: [...flags, main, ...command.slice(script + 1), ...args], cwd: repoRoot };
  }
  throw new Refused(`${field}: image ${image} has no local program (the node agent runs only the KES, MinIO and operator images)`);
}

export interface EnvContext {
  core: k8s.CoreV1Api;
  pod: k8s.V1Pod;
}

async function keyOf(
  read: () => Promise<{ data?: Record<string, string> }>,
  key: string, decode: boolean, optional: boolean | undefined, what: string,
): Promise<string | undefined> {
  let data: Record<string, string> | undefined;
  try {
    data = (await read()).data;
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
  }
  const value = data?.[key];
  if (value === undefined) {
    if (optional) return undefined;
    throw new NotYet(`${what}: key '${key}' not found`);
  }
  return decode ? Buffer.from(value, 'base64').toString('utf8') : value;
}

/** `$(NAME)` expands to an earlier variable, `$$(NAME)` stays literal, as in the Pod API. */
function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    return name !== undefined && name in env ? env[name]! : match;
  });
}

/** The container's environment, in the order and with the precedence the kubelet gives it. */
export async function containerEnv(ctx: EnvContext, container: k8s.V1Container): Promise<Record<string, string>> {
  const namespace = ctx.pod.metadata!.namespace!;
  const env: Record<string, string> = {};
  const readSecret = (name: string) => () => ctx.core.readNamespacedSecret({ name, namespace });
  const readConfigMap = (name: string) => () => ctx.core.readNamespacedConfigMap({ name, namespace });
  for (const [i, from] of (container.envFrom ?? []).entries()) {
    const field = `container ${container.name} envFrom[${i}]`;
    const source = from.secretRef ?? from.configMapRef;
    if (!source?.name) throw new Refused(`${field}: only secretRef and configMapRef are emulated`);
    let data: Record<string, string> | undefined;
    try {
      data = (await (from.secretRef ? readSecret(source.name) : readConfigMap(source.name))()).data;
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
      if (!source.optional) throw new NotYet(`${field}: ${source.name} not found`);
    }
    for (const [key, value] of Object.entries(data ?? {})) {
      env[`${from.prefix ?? ''}${key}`] = from.secretRef ? Buffer.from(value, 'base64').toString('utf8') : value;
    }
  }
  for (const [i, variable] of (container.env ?? []).entries()) {
    const field = `container ${container.name} env[${i}] (${variable.name})`;
    const from = variable.valueFrom;
    let value: string | undefined;
    if (!from) {
      value = expand(variable.value ?? '', env);
    } else if (from.secretKeyRef) {
      const ref = from.secretKeyRef;
      value = await keyOf(readSecret(ref.name!), ref.key, true, ref.optional, `${field}: Secret ${ref.name}`);
    } else if (from.configMapKeyRef) {
      const ref = from.configMapKeyRef;
      value = await keyOf(readConfigMap(ref.name!), ref.key, false, ref.optional, `${field}: ConfigMap ${ref.name}`);
    } else if (from.fieldRef) {
      value = podField(ctx.pod, from.fieldRef.fieldPath, `${field}.valueFrom.fieldRef`);
    } else {
      throw new Refused(`${field}: valueFrom.${Object.keys(from)[0] ?? '?'} is not emulated by the node agent`);
    }
    if (value !== undefined) env[variable.name] = value;
  }
  return env;
}
