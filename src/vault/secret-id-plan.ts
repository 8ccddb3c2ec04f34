// Secret-id rotation, decided from what Vault lists on the role and what the Secret records.
// Invariant: at most two live secret-ids per role at any time, the one in the Secret ("current")
// and the one KES may still run on until it has rolled ("previous"). Everything else is destroyed
// before a new secret-id is issued, so issuing never makes a third.

export interface LiveSecretId {
  accessor: string;
  /** undefined: the secret-id never expires. */
  expiresAt: Date | undefined;
}

/** What the AppRole Secret says about the credentials it holds (no secret values). */
export interface StoredCredentials {
  roleId: string | undefined;
  hasSecretId: boolean;
  accessor: string | undefined;
  expiresAt: Date | undefined;
  previousAccessor: string | undefined;
}

export interface SecretIdPlanInput {
  now: Date;
  renewBeforeSeconds: number;
  /** The role's role-id as Vault reports it now. */
  roleId: string;
  stored: StoredCredentials | undefined;
  /** Accessors Vault lists for the role, with their expiry. */
  listed: LiveSecretId[];
  /** KES runs on the Secret's current credentials (or there is no KES yet). */
  kesOnCurrent: boolean;
}

export interface SecretIdPlan {
  /** The secret-ids to destroy first (by accessor). */
  destroy: { accessor: string; why: string }[];
  /** Whether to issue a new secret-id next and make it current. */
  issue: boolean;
  /** Why a new secret-id is issued, for events. */
  issueWhy: string | undefined;
  /** The accessor the Secret records as "previous" after this pass. */
  previousAccessor: string | undefined;
  /** The time the current secret-id (if kept) is due for rotation. */
  renewAt: Date | undefined;
  /** Why a due rotation waits (KES still uses the previous secret-id); undefined when it does not. */
  waiting: string | undefined;
}

function isLive(entry: LiveSecretId, now: Date): boolean {
  return entry.expiresAt === undefined || entry.expiresAt.getTime() > now.getTime();
}

export function planSecretIds(input: SecretIdPlanInput): SecretIdPlan {
  const { now, stored } = input;
  const live = new Map(input.listed.filter((entry) => isLive(entry, now)).map((entry) => [entry.accessor, entry]));
  const storedCurrent = stored?.accessor;
  const currentProblem = !stored
    ? 'the AppRole Secret does not exist yet'
    : !stored.hasSecretId || !storedCurrent
    ? 'the AppRole Secret has no secret-id'
    : stored.roleId !== input.roleId
    ? "the role-id in the Secret is not the role's role-id"
    : !live.has(storedCurrent)
    ? 'the secret-id in the Secret is expired or was destroyed in Vault'
    : undefined;
  const current = currentProblem === undefined ? live.get(storedCurrent as string) : undefined;
  let previous = stored?.previousAccessor !== undefined ? live.get(stored.previousAccessor) : undefined;
  if (previous && previous.accessor === current?.accessor) previous = undefined;

  const destroy: SecretIdPlan['destroy'] = [];
  for (const accessor of live.keys()) {
    if (accessor !== current?.accessor && accessor !== previous?.accessor) {
      destroy.push({ accessor, why: 'not referenced by the AppRole Secret' });
    }
  }

  if (!current) {
    // KES may still run on the previous secret-id: keep it; the new one becomes the second.
    return { destroy, issue: true, issueWhy: currentProblem, previousAccessor: previous?.accessor, renewAt: undefined,
      waiting: undefined };
  }

  if (previous && input.kesOnCurrent) {
    destroy.push({ accessor: previous.accessor, why: 'KES runs on the current secret-id' });
    previous = undefined;
  }
  const renewAt = current.expiresAt && new Date(current.expiresAt.getTime() - input.renewBeforeSeconds * 1000);
  const due = renewAt !== undefined && now.getTime() >= renewAt.getTime();
  if (!due) {
    return { destroy, issue: false, issueWhy: undefined, previousAccessor: previous?.accessor, renewAt,
      waiting: undefined };
  }
  if (previous) {
    return {
      destroy,
      issue: false,
      issueWhy: undefined,
      previousAccessor: previous.accessor,
      renewAt,
      waiting: 'secret-id rotation is due but KES has not rolled to the current secret-id yet',
    };
  }
  return {
    destroy,
    issue: true,
    issueWhy: `the secret-id expires at ${current.expiresAt?.toISOString()}, within secretIDRenewBefore`,
    previousAccessor: current.accessor,
    renewAt: undefined,
    waiting: undefined,
  };
}
