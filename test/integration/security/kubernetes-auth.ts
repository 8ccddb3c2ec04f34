// Vault's Kubernetes auth for the operator, as docs/vault.md tells a Vault admin to set it up: a
// token reviewer bound to system:auth-delegator, the operator policy, and a role "kmsstack" bound to
// the ServiceAccount kmsstack-operator in kmsstack-system and to the audience "vault". The operator
// process reads that ServiceAccount's audience-bound token from --vault-token-path, as it does in the
// chart's pod from the projected volume.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FaultStack } from '../../faults/stack.ts';
import { OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT } from '../../support/operator.ts';
import { TEST_OPERATOR_POLICY } from '../../support/stack.ts';

export const KUBERNETES_AUTH_ROLE = 'kmsstack';
export interface OperatorKubernetesAuth {
  /** File holding the operator ServiceAccount's JWT. */
  tokenPath: string;
  jwt: string;
  reviewerJwt: string;
  /** Environment of an operator process: the token file, and this Vault as the one allowed server. */
  operatorEnv: Record<string, string>;
}

export async function enableOperatorKubernetesAuth(stack: FaultStack): Promise<OperatorKubernetesAuth> {
  const reviewerJwt = await stack.plane.mintServiceAccountToken('vault', 'token-reviewer', { expirationSeconds: 7200 });
  await stack.plane.kubectl(['create', 'clusterrolebinding', 'vault-token-reviewer', '--clusterrole=system:auth-delegator', '--serviceaccount=vault:token-reviewer']);
  await stack.vault.writePolicy('kmsstack-operator', TEST_OPERATOR_POLICY);
  await stack.vault.enableKubernetesAuth({
    kubernetesHost: stack.plane.server, kubernetesCA: stack.plane.caPem, tokenReviewerJWT: reviewerJwt, role: KUBERNETES_AUTH_ROLE,
    boundServiceAccountNames: [OPERATOR_SERVICE_ACCOUNT], boundServiceAccountNamespaces: [OPERATOR_NAMESPACE], policies: ['kmsstack-operator'], tokenTTL: '10m',
    audience: 'vault',
  });
  // What the chart's projected volume holds: a token for the audience "vault" only.
  const jwt = await stack.plane.mintServiceAccountToken(OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT, { audiences: ['vault'], expirationSeconds: 3600 });
  const tokenPath = join(stack.dir, 'sa-token');
  writeFileSync(tokenPath, jwt, { mode: 0o600 });
  return { tokenPath, jwt, reviewerJwt, operatorEnv: { KMSSTACK_VAULT_TOKEN_PATH: tokenPath, KMSSTACK_VAULT_ADDRESSES: stack.vault.address } };
}
