// Vault's Kubernetes auth for the operator, as docs/vault.md tells a Vault admin to set it up: a
// token reviewer bound to system:auth-delegator, the operator policy, and a role "kmsstack" bound to
// the ServiceAccount kmsstack-operator in kmsstack-system. The operator process gets that
// ServiceAccount's token through a file (fixtures/operator-with-token-path.ts reads it).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Stack } from '../../faults/stack.ts';
import { TEST_OPERATOR_POLICY } from '../vault/fixture.ts';

export const OPERATOR_NAMESPACE = 'kmsstack-system';
export const KUBERNETES_AUTH_ROLE = 'kmsstack';
export const OPERATOR_WITH_TOKEN_PATH = 'test/integration/security/fixtures/operator-with-token-path.ts';

export interface OperatorKubernetesAuth {
  /** File holding the operator ServiceAccount's JWT. */
  tokenPath: string;
  jwt: string;
  reviewerJwt: string;
  /** Environment of an OPERATOR_WITH_TOKEN_PATH process: the token file, and this Vault as the one allowed server. */
  operatorEnv: Record<string, string>;
}

export async function enableOperatorKubernetesAuth(stack: Stack): Promise<OperatorKubernetesAuth> {
  const reviewerJwt = await stack.cp.mintServiceAccountToken('vault', 'token-reviewer', { expirationSeconds: 7200 });
  await stack.cp.kubectl(['create', 'clusterrolebinding', 'vault-token-reviewer', '--clusterrole=system:auth-delegator', '--serviceaccount=vault:token-reviewer']);
  await stack.vault.writePolicy('kmsstack-operator', TEST_OPERATOR_POLICY);
  await stack.vault.enableKubernetesAuth({
    kubernetesHost: stack.cp.server, kubernetesCA: stack.cp.caPem, tokenReviewerJWT: reviewerJwt, role: KUBERNETES_AUTH_ROLE,
    boundServiceAccountNames: ['kmsstack-operator'], boundServiceAccountNamespaces: [OPERATOR_NAMESPACE], policies: ['kmsstack-operator'], tokenTTL: '10m',
  });
  const jwt = await stack.cp.mintServiceAccountToken(OPERATOR_NAMESPACE, 'kmsstack-operator');
  const tokenPath = join(stack.dir, 'sa-token');
  writeFileSync(tokenPath, jwt, { mode: 0o600 });
  return { tokenPath, jwt, reviewerJwt, operatorEnv: { KMSSTACK_TEST_SA_TOKEN_PATH: tokenPath, KMSSTACK_VAULT_ADDRESSES: stack.vault.address } };
}
