// Mount points a Pod needs that do not exist on the host (say /data0, or /var/run/secrets/...) are created
// there, empty, because a bind mount needs a target. Removing one while another test process's Pods have
// something mounted on it would silently unmount it in their namespaces, so the paths are recorded in one
// list shared by every node agent on the machine, and the last agent running removes them all.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isAlive } from '../process.ts';

const LIST = '/run/kmscl-mountpoints.list';

/** Creates `path` (and missing parents) as an empty directory, or an empty file when `file`, and records them. */
export function ensureMountPoint(path: string, file: boolean): void {
  if (existsSync(path)) return;
  const missing: string[] = [path];
  for (let parent = dirname(path); !existsSync(parent); parent = dirname(parent)) missing.unshift(parent);
  for (const [i, created] of missing.entries()) {
    // Recorded before it exists, so a crash between the two leaves nothing unrecorded.
    appendFileSync(LIST, `${created}\n`);
    if (file && i === missing.length - 1) writeFileSync(created, '');
    else mkdirSync(created);
  }
}

/** Whether a node agent of another live process exists (its network namespace is named after its pid). */
function otherAgentsRunning(): boolean {
  if (!existsSync('/run/netns')) return false;
  return readdirSync('/run/netns').some((name) => {
    const owner = Number(/^kmscl(\d+)x/.exec(name)?.[1]);
    return owner > 0 && owner !== process.pid && isAlive(owner);
  });
}

/** Removes the recorded mount points (deepest first, only if empty) when no other agent runs. */
export function removeMountPoints(): void {
  if (!existsSync(LIST) || otherAgentsRunning()) return;
  const paths = [...new Set(readFileSync(LIST, 'utf8').split('\n').filter(Boolean))].sort((a, b) => b.length - a.length);
  for (const path of paths) {
    try {
      rmdirSync(path);
    } catch (err) {
      // A file mount point (subPath of a file) is removed when empty; a non-empty directory is left alone.
      if ((err as { code?: string }).code === 'ENOTDIR' && readFileSync(path).length === 0) rmSync(path);
    }
  }
  rmSync(LIST, { force: true });
}
