// A provisioned PV is its own filesystem, as a real volume is: a tmpfs mounted on the claim's directory
// (size = the claim's request; memory is used only for what is written). A plain directory would share the
// root filesystem, and MinIO refuses such drives ("drive is part of root drive"). Each mount's source names
// the agent's pid, so mounts of a run that was killed before it could unmount are found and removed.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { isAlive } from '../process.ts';

const execFileAsync = promisify(execFile);
const SOURCE_PREFIX = 'kmscl-disk-';
const UNITS: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** Bytes of a Kubernetes quantity such as 1Gi or 500M; undefined when it is not one. */
export function quantityBytes(quantity: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(quantity);
  if (!match) return undefined;
  return Math.ceil(Number(match[1]) * UNITS[match[2] ?? '']!);
}

export async function mountDisk(path: string, sizeBytes: number): Promise<void> {
  await execFileAsync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0755`, `${SOURCE_PREFIX}${process.pid}`, path]);
}

export async function unmountDisk(path: string): Promise<void> {
  await execFileAsync('umount', ['--lazy', path]).catch(() => undefined);
}

/** The disks mounted by this process (for stop) or by processes that are gone (for start). */
export function mountedDisks(which: 'own' | 'stale'): string[] {
  const paths: string[] = [];
  for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const [source, path] = line.split(' ');
    const owner = source?.startsWith(SOURCE_PREFIX) ? Number(source.slice(SOURCE_PREFIX.length)) : undefined;
    if (!owner || !path) continue;
    if (which === 'own' ? owner === process.pid : !isAlive(owner)) paths.push(path.replace(/\\040/g, ' '));
  }
  return paths;
}
