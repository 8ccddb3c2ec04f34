// spec.vault: where the external Vault (or OpenBao) is and how this deployment uses it.
import { durationMs } from '../duration.ts';
import { bool, obj, secretKeyRef, str, withFieldDefaults } from './common.ts';
import { celRule, immutable, type JSONSchema } from './json-schema.ts';

const orphan =
  'the master keys already stored there would no longer be found and data encrypted with them could not be decrypted';

interface AuthSelf {
  kubernetes?: unknown;
  token?: unknown;
}
interface AppRoleSelf {
  tokenTTL: string;
  tokenMaxTTL: string;
  secretIDTTL: string;
  secretIDRenewBefore: string;
}

const kubernetesAuth = obj(
  'VaultKubernetesAuth',
  "Log in with the operator's own ServiceAccount token through Vault's Kubernetes auth method.",
  {
    role: str(
      'Vault role (of the Kubernetes auth method) the operator logs in as; it must grant the policy that manages this deployment (see docs/api.md).',
      'vaultName',
    ),
    mountPath: str('Path where the Kubernetes auth method is mounted in Vault.', 'vaultPath', {
      default: 'kubernetes',
    }),
  },
  { required: ['role'] },
);

const tokenAuth = obj(
  'VaultTokenAuth',
  'Use a Vault token stored in a Secret in the same namespace as the KMSDeployment.',
  {
    secretRef: secretKeyRef('VaultTokenSecretRef', 'Secret that holds the Vault token.', 'token', 'the Vault token'),
  },
  { required: ['secretRef'] },
);

const auth = obj(
  'VaultAuth',
  'How the operator authenticates to Vault to set up the KV mount, policy and AppRole of this deployment. Set exactly one method.',
  { kubernetes: kubernetesAuth, token: tokenAuth },
  {
    'x-kubernetes-validations': [
      celRule<AuthSelf>(
        { rule: 'has(self.kubernetes) != has(self.token)', message: 'set exactly one of kubernetes or token' },
        (self) => (self.kubernetes !== undefined) !== (self.token !== undefined),
      ),
    ],
  },
);

const kv = obj(
  'VaultKV',
  "The KV secrets engine where KES stores this deployment's master keys (guide step 3.2).",
  {
    mountPath: str('Path where the KV secrets engine is mounted.', 'vaultPath', {
      default: 'kv',
      'x-kubernetes-validations': [immutable(orphan)],
    }),
    version: {
      type: 'string',
      description:
        'KV engine version of the mount: v1 or v2. Decides the paths in the policy and the KES keystore settings.',
      enum: ['v1', 'v2'],
      default: 'v1',
      'x-kubernetes-validations': [immutable(`${orphan} (KV v1 and v2 store keys at different paths)`)],
    },
    prefix: str(
      "Path under the mount where this deployment's keys live, e.g. kmsstack/<namespace>/minio. The operator's policy grants access to this prefix only, which isolates deployments sharing one Vault. It must lie under the root the operator's --kv-prefix-template gives this namespace (default kmsstack/<namespace>) and must not equal, contain or lie inside another KMSDeployment's prefix on the same mount; otherwise VaultConfigured is False (PrefixNotAllowed or PrefixInUse) and nothing is created in Vault.",
      'vaultPath',
      { 'x-kubernetes-validations': [immutable(orphan)] },
    ),
    create: bool(
      'Enable the KV engine at mountPath when it does not exist yet. When false, a missing mount is reported instead of created.',
      true,
    ),
  },
  { required: ['prefix'] },
);

const appRole = obj(
  'VaultAppRole',
  'The AppRole KES logs in with (guide steps 3.3 to 3.5). The operator creates the role, and issues and rotates its secret-id.',
  {
    mountPath: str('Path where the AppRole auth method is mounted; enabled by the operator when missing.', 'vaultPath',
      { default: 'approle' }),
    tokenTTL: str('TTL of the Vault tokens KES obtains by logging in.', 'duration', { default: '5m' }),
    tokenMaxTTL: str('Maximum TTL of those tokens, including renewals.', 'duration', { default: '1h' }),
    secretIDTTL: str('Lifetime of each secret-id issued to KES.', 'duration', { default: '24h' }),
    secretIDRenewBefore: str('Issue a new secret-id (and roll KES) this long before the current one expires.',
      'duration', { default: '8h' }),
  },
  {
    'x-kubernetes-validations': [
      celRule<AppRoleSelf>(
        { rule: 'duration(self.tokenTTL) <= duration(self.tokenMaxTTL)',
          message: 'tokenTTL must not exceed tokenMaxTTL', fieldPath: '.tokenTTL' },
        (self) => durationMs(self.tokenTTL) <= durationMs(self.tokenMaxTTL),
      ),
      celRule<AppRoleSelf>(
        { rule: "duration(self.tokenTTL) > duration('0s')", message: 'tokenTTL must be greater than 0',
          fieldPath: '.tokenTTL' },
        (self) => durationMs(self.tokenTTL) > 0,
      ),
      celRule<AppRoleSelf>(
        {
          rule: 'duration(self.secretIDTTL) > duration(self.secretIDRenewBefore)',
          message: 'secretIDTTL must be longer than secretIDRenewBefore',
          fieldPath: '.secretIDRenewBefore',
        },
        (self) => durationMs(self.secretIDTTL) > durationMs(self.secretIDRenewBefore),
      ),
      celRule<AppRoleSelf>(
        { rule: "duration(self.secretIDRenewBefore) > duration('0s')",
          message: 'secretIDRenewBefore must be greater than 0', fieldPath: '.secretIDRenewBefore' },
        (self) => durationMs(self.secretIDRenewBefore) > 0,
      ),
    ],
  },
);

const kesKubernetes = obj(
  'VaultKESKubernetes',
  'How KES logs in to Vault when kesAuth is Kubernetes: with a ServiceAccount token the kubelet projects into the KES pods, through a Kubernetes auth method a Vault administrator has enabled and configured for this cluster (docs/vault.md). Ignored with kesAuth AppRole.',
  {
    mountPath: str(
      'Path where the Kubernetes auth method for KES is mounted in Vault (the operator creates the role of this deployment there, bound to the ServiceAccount <name>-kes in this namespace).',
      'vaultPath',
      { default: 'kubernetes' },
    ),
    audience: str(
      'Audience of the projected token and of the Vault role: the token is worth nothing against the Kubernetes API, and the role takes no other token.',
      'vaultName',
      { default: 'vault' },
    ),
    tokenExpiration: str(
      'Lifetime of the projected ServiceAccount token (expirationSeconds; the kubelet renews it at 80%). From 10m (the Kubernetes minimum) to 24h.',
      'duration',
      {
        default: '1h',
        'x-kubernetes-validations': [
          celRule<string>(
            { rule: "duration(self) >= duration('10m') && duration(self) <= duration('24h')",
              message: 'must be between 10m and 24h' },
            (self) => durationMs(self) >= 600_000 && durationMs(self) <= 86_400_000,
          ),
        ],
      },
    ),
  },
);

export const vaultSchema: JSONSchema = obj(
  'VaultSpec',
  'The external Vault (or OpenBao) that stores the master keys. Required when mode is Vault, forbidden when mode is StaticKey.',
  {
    address: str('URL of the Vault API, e.g. https://vault.vault.svc:8200. Used by the operator and by KES.',
      'httpUrl'),
    namespace: str(
      'Vault Enterprise / OpenBao namespace (sent as X-Vault-Namespace). Leave unset for the root namespace.',
      'vaultNamespace',
    ),
    tls: obj('VaultTLS',
      "How the operator and KES verify Vault's TLS certificate. Without it the system trust store is used.", {
      caSecretRef: secretKeyRef('VaultCASecretRef',
        'Secret with the PEM CA bundle that signed the Vault server certificate.', 'ca.crt', 'the PEM CA bundle'),
      serverName: str(
        "Host name the operator's own Vault client verifies in the Vault certificate when it differs from the host in address. KES (2025-03-12) has no such setting and verifies the host in address, so with KES (every Vault-mode KMSDeployment) it is refused: KESAvailable is InvalidConfiguration. Use an address whose host is in the certificate instead (docs/vault.md).",
        'serverName',
      ),
    }),
    auth,
    kv,
    appRole: withFieldDefaults(appRole),
    kesAuth: {
      type: 'string',
      enum: ['AppRole', 'Kubernetes'],
      default: 'AppRole',
      description:
        "How KES logs in to Vault. AppRole: with a role-id and a secret-id the operator issues, keeps in the Secret <name>-kes-vault-approle and rotates (appRole). Kubernetes: with its own ServiceAccount token (kesKubernetes), so no secret-id exists; the operator still keeps the AppRole role, without secret-ids, for the finalizer's key deletion. Changing it rolls KES; the secret-ids are destroyed (or the Kubernetes role deleted) once KES runs on the new method.",
    },
    kesKubernetes: withFieldDefaults(kesKubernetes),
  },
  { required: ['address', 'auth', 'kv'] },
);
