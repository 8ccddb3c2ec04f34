// Volume expansion for the PVs the node agent provisions, standing in for what a real cluster splits
// between the CSI external-resizer (controller side) and the kubelet (node side). The steps and the
// fields they write are Kubernetes' own (KEP 1790, RecoverVolumeExpansionFailure, GA since 1.34), so the
// operator sees a claim grow exactly as it would on a real cluster:
//   1. controller: status.allocatedResources.storage = the new size, allocatedResourceStatuses.storage =
//      ControllerResizeInProgress, condition Resizing=True; then the PV's spec.capacity grows;
//   2. controller done, node expansion needed: allocatedResourceStatuses.storage = NodeResizePending and
//      the condition FileSystemResizePending=True replaces Resizing;
//   3. node: the filesystem grows (online: the tmpfs is remounted with the new size, which every bind
//      mount into a Pod sees), then status.capacity.storage = the new size, the resize conditions and
//      allocatedResourceStatuses.storage are removed (allocatedResources stays, as the kubelet leaves it).
// Only bound claims on a PV this agent provisioned, whose StorageClass sets allowVolumeExpansion, are
// touched (the API server's PersistentVolumeClaimResize admission already refuses the others). An
// expansion already under way continues to status.allocatedResources, not to a request lowered since.
// Each step is a status update with the claim's resourceVersion; a conflict waits for the next sync.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type * as k8s from '@kubernetes/client-node';
import { mountedDisks, quantityBytes } from './disks.ts';

const execFileAsync = promisify(execFile);

const RESIZE_CONDITIONS = new Set(['Resizing', 'FileSystemResizePending']);
const IN_PROGRESS = new Set(['ControllerResizeInProgress', 'NodeResizePending', 'NodeResizeInProgress']);

export interface ResizerContext {
  core: k8s.CoreV1Api;
  storage: k8s.StorageV1Api;
  provisioner: string;
  log(line: string): void;
}

/** The size a bound claim should be expanded to, or undefined when nothing is to be done. */
export function expansionTarget(claim: k8s.V1PersistentVolumeClaim): string | undefined {
  if (claim.status?.phase !== 'Bound' || !claim.spec?.volumeName) return undefined;
  const allocated = claim.status.allocatedResources?.['storage'];
  if (allocated && IN_PROGRESS.has(claim.status.allocatedResourceStatuses?.['storage'] ?? '')) return allocated;
  const requested = claim.spec.resources?.requests?.['storage'];
  const capacity = claim.status.capacity?.['storage'];
  if (!requested || !capacity) return undefined;
  const [want, have] = [quantityBytes(requested), quantityBytes(capacity)];
  return want !== undefined && have !== undefined && want > have ? requested : undefined;
}

function withConditions(claim: k8s.V1PersistentVolumeClaim, type: string | undefined, message: string): k8s.V1PersistentVolumeClaimCondition[] {
  const kept = (claim.status?.conditions ?? []).filter((c) => !RESIZE_CONDITIONS.has(c.type));
  if (!type) return kept;
  const previous = claim.status?.conditions?.find((c) => c.type === type);
  return [...kept, { type, status: 'True', message, lastProbeTime: new Date(), lastTransitionTime: previous?.lastTransitionTime ?? new Date() }];
}

async function writeStatus(context: ResizerContext, claim: k8s.V1PersistentVolumeClaim, status: k8s.V1PersistentVolumeClaimStatus): Promise<k8s.V1PersistentVolumeClaim> {
  return context.core.replaceNamespacedPersistentVolumeClaimStatus({
    name: claim.metadata!.name!, namespace: claim.metadata!.namespace!, body: { ...claim, status },
  });
}

/** Records that `target` is being allocated and which phase the resize is in (once: a claim already there is returned). */
async function markResizePhase(context: ResizerContext, claim: k8s.V1PersistentVolumeClaim, target: string,
  phase: 'ControllerResizeInProgress' | 'NodeResizePending', condition: string, message: string): Promise<k8s.V1PersistentVolumeClaim> {
  if (claim.status?.allocatedResourceStatuses?.['storage'] === phase) return claim;
  return writeStatus(context, claim, {
    ...claim.status,
    allocatedResources: { ...claim.status?.allocatedResources, storage: target },
    allocatedResourceStatuses: { ...claim.status?.allocatedResourceStatuses, storage: phase },
    conditions: withConditions(claim, condition, message),
  });
}

async function expandable(context: ResizerContext, claim: k8s.V1PersistentVolumeClaim, volume: k8s.V1PersistentVolume): Promise<boolean> {
  if (volume.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'] !== context.provisioner) return false;
  if (volume.spec?.claimRef?.uid !== claim.metadata?.uid) return false;
  const className = claim.spec?.storageClassName;
  if (!className) return false;
  const storageClass = await context.storage.readStorageClass({ name: className }).catch(() => undefined);
  return storageClass?.allowVolumeExpansion === true;
}

/** The filesystem of the PV grows to `bytes`: a remount of its tmpfs (a plain directory has no size). */
async function growFilesystem(path: string, bytes: number): Promise<void> {
  if (!mountedDisks('own').includes(path)) return;
  await execFileAsync('mount', ['-o', `remount,size=${bytes}`, path]);
}

/** One pass over the claims: each one that asks for more than it has moves on by as many steps as it can. */
export async function resizeClaims(context: ResizerContext, claims: k8s.V1PersistentVolumeClaim[]): Promise<void> {
  for (const listed of claims) {
    const target = expansionTarget(listed);
    if (!target) continue;
    const name = `${listed.metadata!.namespace}/${listed.metadata!.name}`;
    try {
      await resizeClaim(context, listed, target);
    } catch (err) {
      // A conflict or a vanished object: the next sync reads the claim again.
      context.log(`resize ${name} to ${target}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

async function resizeClaim(context: ResizerContext, listed: k8s.V1PersistentVolumeClaim, target: string): Promise<void> {
  const volume = await context.core.readPersistentVolume({ name: listed.spec!.volumeName! });
  if (!(await expandable(context, listed, volume))) return;
  const name = `${listed.metadata!.namespace}/${listed.metadata!.name}`;
  const targetBytes = quantityBytes(target);
  if (targetBytes === undefined) {
    context.log(`resize ${name}: '${target}' is not a quantity the agent reads; left as it is`);
    return;
  }
  let claim = listed;
  const volumeBytes = quantityBytes(volume.spec?.capacity?.['storage'] ?? '') ?? 0;
  if (volumeBytes < targetBytes) {
    // Controller side: record what is being allocated before touching the volume (quota counts it).
    claim = await markResizePhase(context, claim, target, 'ControllerResizeInProgress', 'Resizing', '');
    await context.core.replacePersistentVolume({
      name: volume.metadata!.name!, body: { ...volume, spec: { ...volume.spec, capacity: { ...volume.spec?.capacity, storage: target } } },
    });
    context.log(`resize ${name}: PV ${volume.metadata!.name} is now ${target}`);
  }
  claim = await markResizePhase(context, claim, target, 'NodeResizePending', 'FileSystemResizePending',
    'Waiting for user to (re-)start a pod to finish file system resize of volume on node.');
  // Node side: the volume is mounted (the agent mounts it when provisioning), so it grows online.
  const path = volume.spec?.hostPath?.path ?? volume.spec?.local?.path;
  if (path) await growFilesystem(path, targetBytes);
  const statuses = { ...claim.status?.allocatedResourceStatuses };
  delete statuses['storage'];
  await writeStatus(context, claim, {
    ...claim.status,
    capacity: { ...claim.status?.capacity, storage: target },
    allocatedResourceStatuses: statuses,
    conditions: withConditions(claim, undefined, ''),
  });
  context.log(`resize ${name}: filesystem and claim are now ${target}`);
}
