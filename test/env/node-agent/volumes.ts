// The Pod volumes the node agent materializes as directories (bind-mounted later at each mountPath): Secret
// and ConfigMap (items, modes), projected (Secret, ConfigMap, ServiceAccount tokens from the TokenRequest
// API with audience, downward API fields), emptyDir, and PVCs bound to a PV with a hostPath/local
// directory. Anything else is refused, never skipped. Contents are written once, when the Pod starts.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, isAbsolute } from 'node:path';
import type * as k8s from '@kubernetes/client-node';

/** A Pod feature the agent cannot emulate: reported as an Event and a Pod condition, never ignored. */
export class Refused extends Error {}
/** Something the Pod needs does not exist yet (a Secret, a bound PVC): the agent retries, as the kubelet does. */
export class NotYet extends Error {}

export interface VolumeContext {
  core: k8s.CoreV1Api;
  pod: k8s.V1Pod;
}

const DEFAULT_MODE = 0o644;

/** A relative path from a spec, refused when it leaves its directory. */
function safeRelative(path: string, field: string): string {
  const clean = normalize(path);
  if (isAbsolute(clean) || clean === '..' || clean.startsWith('../') || clean === '.') {
    throw new Refused(`${field}: path '${path}' must be relative and stay inside the volume`);
  }
  return clean;
}

function writeKeyFile(dir: string, relative: string, content: Buffer, mode: number): void {
  const path = join(dir, relative);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  chmodSync(path, mode);
}

type Items = { key: string; path: string; mode?: number }[] | undefined;

function writeItems(dir: string, data: Record<string, Buffer>, items: Items, mode: number, field: string): void {
  if (!items?.length) {
    for (const [key, value] of Object.entries(data)) writeKeyFile(dir, safeRelative(key, `${field}.data`), value, mode);
    return;
  }
  items.forEach((item, i) => {
    const value = data[item.key];
    if (value === undefined) throw new NotYet(`${field}.items[${i}]: key '${item.key}' is not in the object`);
    writeKeyFile(dir, safeRelative(item.path, `${field}.items[${i}].path`), value, item.mode ?? mode);
  });
}

async function secretData(ctx: VolumeContext, name: string, optional: boolean | undefined, field: string): Promise<Record<string, Buffer> | undefined> {
  const namespace = ctx.pod.metadata!.namespace!;
  try {
    const secret = await ctx.core.readNamespacedSecret({ name, namespace });
    return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
    if (optional) return undefined;
    throw new NotYet(`${field}: Secret ${namespace}/${name} not found`);
  }
}

async function configMapData(ctx: VolumeContext, name: string, optional: boolean | undefined, field: string): Promise<Record<string, Buffer> | undefined> {
  const namespace = ctx.pod.metadata!.namespace!;
  try {
    const configMap = await ctx.core.readNamespacedConfigMap({ name, namespace });
    return {
      ...Object.fromEntries(Object.entries(configMap.data ?? {}).map(([k, v]) => [k, Buffer.from(v)])),
      ...Object.fromEntries(Object.entries(configMap.binaryData ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    };
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
    if (optional) return undefined;
    throw new NotYet(`${field}: ConfigMap ${namespace}/${name} not found`);
  }
}

/** The downward API fields a Pod may read (env fieldRef and downwardAPI volumes). */
export function podField(pod: k8s.V1Pod, fieldPath: string, field: string): string {
  const labelOrAnnotation = /^metadata\.(labels|annotations)\['([^']+)'\]$/.exec(fieldPath);
  if (labelOrAnnotation) {
    const map = labelOrAnnotation[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations;
    return map?.[labelOrAnnotation[2]!] ?? '';
  }
  const fields: Record<string, string | undefined> = {
    'metadata.name': pod.metadata?.name,
    'metadata.namespace': pod.metadata?.namespace,
    'metadata.uid': pod.metadata?.uid,
    'spec.nodeName': pod.spec?.nodeName,
    'spec.serviceAccountName': pod.spec?.serviceAccountName,
    'status.podIP': pod.status?.podIP,
    'status.hostIP': pod.status?.hostIP,
  };
  if (!(fieldPath in fields)) throw new Refused(`${field}: fieldPath '${fieldPath}' is not emulated by the node agent`);
  return fields[fieldPath] ?? '';
}

async function serviceAccountToken(ctx: VolumeContext, source: k8s.V1ServiceAccountTokenProjection): Promise<Buffer> {
  const pod = ctx.pod;
  const response = await ctx.core.createNamespacedServiceAccountToken({
    name: pod.spec?.serviceAccountName ?? 'default',
    namespace: pod.metadata!.namespace!,
    body: {
      spec: {
        audiences: source.audience ? [source.audience] : [],
        expirationSeconds: source.expirationSeconds ?? 3607,
        boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata!.name!, uid: pod.metadata!.uid! },
      },
    },
  });
  if (!response.status?.token) throw new NotYet('TokenRequest returned no token');
  return Buffer.from(response.status.token);
}

async function projected(ctx: VolumeContext, dir: string, volume: k8s.V1ProjectedVolumeSource, field: string): Promise<void> {
  const mode = volume.defaultMode ?? DEFAULT_MODE;
  for (const [i, source] of (volume.sources ?? []).entries()) {
    const at = `${field}.sources[${i}]`;
    if (source.secret) {
      const data = await secretData(ctx, source.secret.name!, source.secret.optional, `${at}.secret`);
      if (data) writeItems(dir, data, source.secret.items, mode, `${at}.secret`);
    } else if (source.configMap) {
      const data = await configMapData(ctx, source.configMap.name!, source.configMap.optional, `${at}.configMap`);
      if (data) writeItems(dir, data, source.configMap.items, mode, `${at}.configMap`);
    } else if (source.serviceAccountToken) {
      const path = safeRelative(source.serviceAccountToken.path, `${at}.serviceAccountToken.path`);
      writeKeyFile(dir, path, await serviceAccountToken(ctx, source.serviceAccountToken), mode);
    } else if (source.downwardAPI) {
      for (const [j, item] of (source.downwardAPI.items ?? []).entries()) {
        if (!item.fieldRef) throw new Refused(`${at}.downwardAPI.items[${j}]: only fieldRef is emulated`);
        const value = podField(ctx.pod, item.fieldRef.fieldPath, `${at}.downwardAPI.items[${j}].fieldRef`);
        writeKeyFile(dir, safeRelative(item.path, `${at}.downwardAPI.items[${j}].path`), Buffer.from(value), item.mode ?? mode);
      }
    } else {
      throw new Refused(`${at}: this projected source is not emulated by the node agent`);
    }
  }
}

async function claimDirectory(ctx: VolumeContext, claimName: string, field: string): Promise<string> {
  const namespace = ctx.pod.metadata!.namespace!;
  const claim = await ctx.core.readNamespacedPersistentVolumeClaim({ name: claimName, namespace }).catch((err: unknown) => {
    if ((err as { code?: number }).code === 404) throw new NotYet(`${field}: PVC ${namespace}/${claimName} not found`);
    throw err;
  });
  const volumeName = claim.spec?.volumeName;
  if (claim.status?.phase !== 'Bound' || !volumeName) throw new NotYet(`${field}: PVC ${namespace}/${claimName} is not bound yet`);
  const volume = await ctx.core.readPersistentVolume({ name: volumeName });
  const path = volume.spec?.hostPath?.path ?? volume.spec?.local?.path;
  if (!path) throw new Refused(`${field}: PV ${volumeName} has neither hostPath nor local; only directory volumes are emulated`);
  mkdirSync(path, { recursive: true });
  return path;
}

/** Materializes every volume of the Pod under `podDir`; returns each volume's directory by name. */
export async function materializeVolumes(ctx: VolumeContext, podDir: string): Promise<Map<string, string>> {
  const dirs = new Map<string, string>();
  for (const [i, volume] of (ctx.pod.spec?.volumes ?? []).entries()) {
    const field = `spec.volumes[${i}] (${volume.name})`;
    const dir = join(podDir, 'volumes', volume.name);
    if (volume.persistentVolumeClaim) {
      if (volume.persistentVolumeClaim.readOnly) throw new Refused(`${field}: read-only PVC mounts are not emulated`);
      dirs.set(volume.name, await claimDirectory(ctx, volume.persistentVolumeClaim.claimName, field));
      continue;
    }
    mkdirSync(dir, { recursive: true });
    if (volume.secret) {
      const data = await secretData(ctx, volume.secret.secretName!, volume.secret.optional, `${field}.secret`);
      if (data) writeItems(dir, data, volume.secret.items, volume.secret.defaultMode ?? DEFAULT_MODE, `${field}.secret`);
    } else if (volume.configMap) {
      const data = await configMapData(ctx, volume.configMap.name!, volume.configMap.optional, `${field}.configMap`);
      if (data) writeItems(dir, data, volume.configMap.items, volume.configMap.defaultMode ?? DEFAULT_MODE, `${field}.configMap`);
    } else if (volume.projected) {
      await projected(ctx, dir, volume.projected, `${field}.projected`);
    } else if (volume.emptyDir) {
      // An emptyDir of medium Memory is a plain directory too: the size limit is not enforced.
    } else {
      const kind = Object.keys(volume).find((k) => k !== 'name') ?? 'unknown';
      throw new Refused(`${field}: volume type '${kind}' is not emulated by the node agent`);
    }
    dirs.set(volume.name, dir);
  }
  return dirs;
}
