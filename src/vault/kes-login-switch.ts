// Switching KES between its two Vault logins (spec.vault.kesAuth) without downtime: what the old
// login needs stays valid until every KES pod runs on the new one (kesRunsOnChecksum), then it goes.
// AppRole -> Kubernetes: the AppRole Secret is kept as it is while old pods still read it, then its
// secret-ids are destroyed and the Secret is no longer declared (the runtime prunes it).
// Kubernetes -> AppRole (or another Kubernetes mount): the old Kubernetes role is deleted once KES
// has rolled; status.vault.kubernetesRoleMount remembers where it is until then.
import { buildAppRoleSecret, readAppRoleSecret } from './approle-secret.ts';
import type { VaultClient } from './client.ts';
import type { VaultDeps } from './connect.ts';
import { removeKesKubernetesRole } from './kes-kubernetes-role.ts';
import { appRoleSecretName } from './names.ts';
import * as vault from './operations.ts';
import { KES_ROLL_POLL_MS, kesRunsOnChecksum } from './ports.ts';
import type { VaultSettings } from './settings.ts';
import { checksumOf } from '../workload/checksum.ts';

/** The part of the Vault step's input a switch reads. */
interface SwitchInput {
  settings: VaultSettings;
  labels: Record<string, string>;
  ownerReferences: unknown[];
  recorded?: { kubernetesRoleMount?: string };
}

export interface KesCredentials {
  /** What the KES pod template carries; KES runs on these credentials once its rollout to it finished. */
  checksum: string;
  expiresAt: Date | undefined;
  requeueAfterMs: number | undefined;
  waiting: string | undefined;
}

/** The login settings KES's pods start with under Kubernetes auth; a change rolls KES. */
export function kubernetesLoginChecksum(settings: VaultSettings): string {
  const auth = settings.kesAuth;
  if (auth.method !== 'Kubernetes') throw new Error('kubernetesLoginChecksum: spec.vault.kesAuth is not Kubernetes');
  return checksumOf(['kubernetes', auth.mountPath, settings.objectName, auth.serviceAccount, auth.audience,
    String(auth.tokenExpirationSeconds)]);
}

export function recordedKubernetesMount(recorded: SwitchInput['recorded']): { kubernetesRoleMount?: string } {
  return recorded?.kubernetesRoleMount ? { kubernetesRoleMount: recorded.kubernetesRoleMount } : {};
}

/** Kubernetes auth: no secret-id for KES. Those of an earlier AppRole login go once KES has rolled. */
export async function retireSecretIds(deps: VaultDeps, client: VaultClient, token: string, input: SwitchInput,
  changes: string[]): Promise<KesCredentials>
{
  const { settings } = input;
  const { namespace, name } = settings.deployment;
  const { mountPath } = settings.appRole;
  const role = settings.objectName;
  const checksum = kubernetesLoginChecksum(settings);
  const accessors = await vault.listSecretIdAccessors(client, token, mountPath, role);
  const existing = await deps.kube.getSecret(namespace, appRoleSecretName(name));
  if (accessors.length === 0 && !existing) {
    return { checksum, expiresAt: undefined, requeueAfterMs: undefined, waiting: undefined };
  }
  if (!kesRunsOnChecksum(await deps.kube.getKesDeployment(namespace, name), checksum)) {
    const current = readAppRoleSecret(existing);
    // Declared unchanged, so pods still on the AppRole login keep their Secret until they are replaced.
    if (current?.roleId && current.secretId && current.stored.accessor) {
      await deps.kube.applySecret(
        buildAppRoleSecret({
          deployment: settings.deployment,
          roleId: current.roleId,
          secretId: current.secretId,
          accessor: current.stored.accessor,
          expiresAt: current.stored.expiresAt,
          previousAccessor: current.stored.previousAccessor,
          labels: input.labels,
          ownerReferences: input.ownerReferences,
        }),
        existing,
      );
    }
    return { checksum, expiresAt: undefined, requeueAfterMs: KES_ROLL_POLL_MS,
      waiting: `the AppRole secret-ids stay until KES has rolled to Kubernetes auth` };
  }
  for (const accessor of accessors) {
    await vault.destroySecretIdByAccessor(client, token, mountPath, role, accessor);
    changes.push(`destroyed secret-id ${accessor} of ${role} (KES logs in with Kubernetes auth now)`);
  }
  if (existing) {
    changes.push(`no longer keeping Secret ${namespace}/${appRoleSecretName(name)} (KES logs in with Kubernetes auth)`);
  }
  return { checksum, expiresAt: undefined, requeueAfterMs: undefined, waiting: undefined };
}

/**
 * The Kubernetes role on the mount status.vault.kubernetesRoleMount names, when the spec no longer
 * uses it: deleted once KES runs on `checksum`. Returns the mount to record from now on.
 */
export async function retireKubernetesRole(
  deps: VaultDeps,
  client: VaultClient,
  token: string,
  input: SwitchInput,
  checksum: string,
  changes: string[],
): Promise<{ mount: string | undefined; waiting: string | undefined }> {
  const { settings } = input;
  const current = settings.kesAuth.method === 'Kubernetes' ? settings.kesAuth.mountPath : undefined;
  const recorded = input.recorded?.kubernetesRoleMount;
  if (!recorded || recorded === current) return { mount: current, waiting: undefined };
  const { namespace, name } = settings.deployment;
  if (!kesRunsOnChecksum(await deps.kube.getKesDeployment(namespace, name), checksum)) {
    // Both stay recorded would need a list; the old one is the one still to delete, the new one is in the spec.
    return { mount: recorded, waiting: `the Kubernetes role on auth/${recorded} stays until KES has rolled` };
  }
  const removed = await removeKesKubernetesRole(client, token, settings, recorded);
  changes.push(...removed.done, ...removed.kept);
  return { mount: current, waiting: undefined };
}
