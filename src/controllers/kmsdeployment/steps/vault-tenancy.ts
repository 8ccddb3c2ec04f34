// The tenancy rules of src/vault/tenancy.ts applied to one KMSDeployment and the others in the cache:
// whether the Vault step may hand out credentials for its prefix, and whether the finalizer may delete
// the keys under it. The cache is the operator's view of every watched KMSDeployment; two objects
// created in the same instant may both pass once, and the next reconcile refuses the younger.
import type { ObjectReader } from '../../../runtime/cache.ts';
import type { KubeObject } from '../../../runtime/kube/resources.ts';
import { resolveVaultSettings, type VaultSettings, type VaultSpec } from '../../../vault/settings.ts';
import { KeyLocationIndex } from '../../../vault/tenancy-index.ts';
import { ConditionReason } from '../../../api/reasons.ts';
import { addressNotAllowed, describeOverlap, type KeyLocation, olderOverlap, prefixNotAllowed, type PrefixRule,
  sharesPrefix } from '../../../vault/tenancy.ts';

/** What the operator's administrator allows KMSDeployments in Vault (operator settings). */
export interface VaultTenancy {
  /** Origins of the Vault servers the operator may contact (--vault-addresses). */
  addresses: readonly string[];
  /** Which KV prefixes a deployment may use (--kv-prefix-template). */
  prefixRule: PrefixRule;
  /** The name of this operator among others on one Vault (--instance-name): part of every Vault object name. */
  instance: string;
}

export interface Refusal {
  reason: typeof ConditionReason.VaultAddressNotAllowed | typeof ConditionReason.PrefixNotAllowed
    | typeof ConditionReason.PrefixInUse;
  message: string;
}

// Informers replace an object on every change, so the identity of the cached object is its version.
const locations = new WeakMap<KubeObject, KeyLocation | null>();

function createdAt(object: KubeObject): number {
  const time = Date.parse(object.metadata.creationTimestamp ?? '');
  return Number.isNaN(time) ? Number.MAX_SAFE_INTEGER : time;
}

/** Where a cached KMSDeployment keeps its keys; undefined for StaticKey mode or an unusable spec. */
export function keyLocationOf(object: KubeObject): KeyLocation | undefined {
  const known = locations.get(object);
  if (known !== undefined) return known ?? undefined;
  let location: KeyLocation | null = null;
  const spec = (object as { spec?: { mode?: string; vault?: VaultSpec } }).spec;
  if ((spec?.mode ?? 'Vault') === 'Vault') {
    try {
      const settings = resolveVaultSettings(spec?.vault, { namespace: object.metadata.namespace ?? '',
        name: object.metadata.name ?? '' });
      location = locationOf(settings, createdAt(object));
    } catch {
      location = null; // its own reconcile reports the invalid spec; it claims no prefix meanwhile
    }
  }
  locations.set(object, location);
  return location ?? undefined;
}

function locationOf(settings: VaultSettings, created: number): KeyLocation {
  return {
    deployment: settings.deployment,
    createdAt: created,
    address: settings.address,
    vaultNamespace: settings.vaultNamespace,
    mountPath: settings.kv.mountPath,
    prefix: settings.kv.prefix,
  };
}

const indexes = new WeakMap<ObjectReader, KeyLocationIndex<KubeObject>>();

/** The cached deployments whose storage may overlap `self`'s (tenancy.ts decides which do), through an index per cache. */
function otherLocations(cache: ObjectReader, self: KeyLocation): KeyLocation[] {
  let index = indexes.get(cache);
  if (!index) {
    index = new KeyLocationIndex((object) => `${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`,
      keyLocationOf);
    indexes.set(cache, index);
  }
  index.sync(cache.listAll('KMSDeployment'));
  return index.candidates(self);
}

/** Why the operator must not contact this deployment's Vault at all, or undefined when it may. */
export function refuseAddress(tenancy: VaultTenancy, settings: VaultSettings): Refusal | undefined {
  const message = addressNotAllowed(tenancy.addresses, settings);
  return message ? { reason: ConditionReason.VaultAddressNotAllowed, message } : undefined;
}

function refusePrefix(rule: PrefixRule, settings: VaultSettings, self: KeyLocation, others: readonly KeyLocation[]):
  | Refusal
  | undefined
{
  const notAllowed = prefixNotAllowed(rule, settings);
  if (notAllowed) return { reason: ConditionReason.PrefixNotAllowed, message: notAllowed };
  const owner = olderOverlap(self, others);
  return owner ? { reason: ConditionReason.PrefixInUse, message: describeOverlap(self, owner) } : undefined;
}

/** Why this deployment may not use its Vault server or its prefix, or undefined when it may. */
export function refuseVaultAccess(tenancy: VaultTenancy, settings: VaultSettings, object: KubeObject,
  cache: ObjectReader): Refusal | undefined
{
  const self = locationOf(settings, createdAt(object));
  return refuseAddress(tenancy, settings) ??
    refusePrefix(tenancy.prefixRule, settings, self, otherLocations(cache, self));
}

/**
 * Why the keys under this deployment's prefix are not its own to delete, or undefined when they are:
 * only a deployment that would be granted its prefix now, and shares it with no other, deletes keys.
 * The caller has already made sure the operator may contact this Vault at all (refuseAddress).
 */
export function keysNotOwned(rule: PrefixRule, settings: VaultSettings, object: KubeObject, cache: ObjectReader):
  | string
  | undefined
{
  const self = locationOf(settings, createdAt(object));
  const others = otherLocations(cache, self);
  const refusal = refusePrefix(rule, settings, self, others);
  if (refusal) return refusal.message;
  const other = sharesPrefix(self, others);
  return other
    ? `KMSDeployment ${other.deployment.namespace}/${other.deployment.name} uses the same prefix ${self.mountPath}/${self.prefix}`
    : undefined;
}
