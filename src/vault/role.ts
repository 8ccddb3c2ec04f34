// The AppRole role KES logs in with, and whether the role stored in Vault already matches it.

export interface AppRoleRole {
  token_policies: string[];
  token_ttl: number;
  token_max_ttl: number;
  token_num_uses: number;
  token_no_default_policy: boolean;
  token_period: number;
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
    token_policies: [input.policyName],
    token_ttl: input.tokenTTLSeconds,
    token_max_ttl: input.tokenMaxTTLSeconds,
    // KES logs in again whenever renewal fails, so tokens and secret-ids must be reusable.
    token_num_uses: 0,
    secret_id_num_uses: 0,
    // The KES policy carries auth/token/renew-self itself; the default policy would grant more.
    token_no_default_policy: true,
    token_period: 0,
    bind_secret_id: true,
    secret_id_ttl: input.secretIDTTLSeconds,
  };
}

function sameList(a: unknown, b: string[]): boolean {
  return Array.isArray(a) && a.length === b.length && [...a].map(String).sort().join('\n') === [...b].sort().join('\n');
}

/** Field names whose stored value differs from `desired` (empty when nothing has to be written). */
export function appRoleRoleDifferences(stored: Record<string, unknown> | undefined, desired: AppRoleRole): string[] {
  if (!stored) return Object.keys(desired);
  const differences: string[] = [];
  for (const [field, want] of Object.entries(desired) as [keyof AppRoleRole, AppRoleRole[keyof AppRoleRole]][]) {
    const have = stored[field];
    const same = Array.isArray(want) ? sameList(have, want) : have === want;
    if (!same) differences.push(field);
  }
  return differences;
}
