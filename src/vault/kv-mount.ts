// What to do about the KV secrets engine mount, decided from what Vault reports about it.
import type { KvVersion } from './settings.ts';

/** The parts of a mount description (`GET sys/mounts/<path>`) that matter here. */
export interface MountDescription {
  type: string;
  options?: Record<string, unknown> | null;
}

export type KvMountPlan =
  | { action: 'none' }
  | { action: 'create'; body: { type: 'kv'; options: { version: '1' | '2' }; description: string } }
  | { action: 'missing' }
  | { action: 'mismatch'; found: string };

/** The KV version of a mount, or a description of what else it is. */
export function describeMount(mount: MountDescription): { kvVersion: KvVersion } | { other: string } {
  // "generic" is the pre-0.8 name of KV v1 and still reported for mounts created that way.
  if (mount.type !== 'kv' && mount.type !== 'generic') return { other: `a "${mount.type}" secrets engine` };
  const version = mount.options?.['version'];
  return { kvVersion: version === '2' || version === 2 ? 'v2' : 'v1' };
}

export function planKvMount(existing: MountDescription | undefined,
  want: { version: KvVersion; create: boolean }): KvMountPlan
{
  if (!existing) {
    if (!want.create) return { action: 'missing' };
    return {
      action: 'create',
      body: { type: 'kv', options: { version: want.version === 'v2' ? '2' : '1' },
        description: 'KES key store (kmsstack-operator)' },
    };
  }
  const found = describeMount(existing);
  if ('other' in found) return { action: 'mismatch', found: found.other };
  if (found.kvVersion !== want.version) return { action: 'mismatch', found: `KV ${found.kvVersion}` };
  return { action: 'none' };
}
