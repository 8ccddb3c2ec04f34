// The Vault roles KES logs in with (AppRole, or Kubernetes with spec.vault.kesAuth: Kubernetes), and
// whether a role stored in Vault already matches the desired one.

/** The token fields both KES roles set: which policy a KES login gets and how long its token lives. */
export interface KesTokenFields {
  token_policies: string[];
  token_ttl: number;
  token_max_ttl: number;
  token_num_uses: number;
  token_no_default_policy: boolean;
  token_period: number;
}

/** The AppRole role: the token fields and the secret-id fields. */
export interface AppRoleRole extends KesTokenFields {
  bind_secret_id: boolean;
  secret_id_ttl: number;
  secret_id_num_uses: number;
}

export interface RoleInput {
  policyName: string;
  tokenTTLSeconds: number;
  tokenMaxTTLSeconds: number;
  secretIDTTLSeconds: number;
}

/** The role's fields the operator owns; Vault's other role fields keep their defaults. */
export function desiredAppRoleRole(input: RoleInput): AppRoleRole {
  return {
    ...kesTokenFields(input.policyName, input.tokenTTLSeconds, input.tokenMaxTTLSeconds),
    // KES logs in again whenever renewal fails, so secret-ids must be reusable too.
    secret_id_num_uses: 0,
    bind_secret_id: true,
    secret_id_ttl: input.secretIDTTLSeconds,
  };
}

/** The token fields of a KES role granting `policyName`, the same for AppRole and Kubernetes logins. */
export function kesTokenFields(policyName: string, tokenTTLSeconds: number,
  tokenMaxTTLSeconds: number): KesTokenFields
{
  return {
    token_policies: [policyName],
    token_ttl: tokenTTLSeconds,
    token_max_ttl: tokenMaxTTLSeconds,
    // KES logs in again whenever renewal fails, so tokens must be reusable.
    token_num_uses: 0,
    // The KES policy carries auth/token/renew-self itself; the default policy would grant more.
    token_no_default_policy: true,
    token_period: 0,
  };
}

function sameList(a: unknown, b: string[]): boolean {
  return Array.isArray(a) && a.length === b.length && [...a].map(String).sort().join('\n') === [...b].sort().join('\n');
}

/** Field names whose stored value differs from `desired` (empty when nothing has to be written); lists compare as sets. */
export function roleDifferences(stored: Record<string, unknown> | undefined, desired: KesTokenFields): string[] {
  if (!stored) return Object.keys(desired);
  return Object.entries(desired)
    .filter(([field, want]) => (Array.isArray(want) ? !sameList(stored[field], want) : stored[field] !== want))
    .map(([field]) => field);
}
