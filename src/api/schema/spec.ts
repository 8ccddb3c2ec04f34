// spec: the top level of the KMSDeployment spec and the rules that span its sections.
import { durationMs } from '../duration.ts';
import { bool, obj, secretRef, str, withFieldDefaults } from './common.ts';
import { celRule, immutable, type JSONSchema } from './json-schema.ts';
import { kesSchema } from './kes.ts';
import { minioSchema } from './minio.ts';
import { vaultSchema } from './vault.ts';

interface SpecSelf {
  mode?: string;
  vault?: { kesAuth?: string };
  kes?: { keys?: { name?: unknown }[]; serviceAccountName?: string };
  minio?: { keyName?: unknown; buckets?: { key?: unknown }[] };
}
interface TLSSelf {
  validity: string;
  renewBefore: string;
}

const tlsSchema: JSONSchema = obj(
  'TLSSpec',
  'Certificates the operator issues: a CA per KMSDeployment, the KES server certificate and the client identities of MinIO and the operator (guide steps 2 and 4.1).',
  {
    validity: str('Lifetime of the certificates the operator issues (the CA it generates lives 4 times as long).',
      'duration', { default: '2160h' }),
    renewBefore: str('Renew a certificate this long before it expires.', 'duration', { default: '720h' }),
    clusterDomain: str("DNS domain of the cluster, used in the service names of the KES certificate's subjectAltNames.",
      'dns1123Subdomain', {
      default: 'cluster.local',
    }),
    caSecretRef: secretRef(
      'CASecretRef',
      'Use this CA (a Secret with tls.crt and tls.key) instead of generating one. The operator never modifies it.',
    ),
  },
  {
    'x-kubernetes-validations': [
      celRule<TLSSelf>(
        { rule: 'duration(self.renewBefore) < duration(self.validity)',
          message: 'renewBefore must be shorter than validity', fieldPath: '.renewBefore' },
        (self) => durationMs(self.renewBefore) < durationMs(self.validity),
      ),
      // Shorter lifetimes would make the operator re-issue (and roll KES and MinIO) faster than a
      // rollout completes; the PKI step relies on these floors.
      celRule<TLSSelf>(
        { rule: "duration(self.renewBefore) >= duration('1m')", message: 'renewBefore must be at least 1m',
          fieldPath: '.renewBefore' },
        (self) => durationMs(self.renewBefore) >= 60_000,
      ),
      celRule<TLSSelf>(
        { rule: "duration(self.validity) >= duration('1h')", message: 'validity must be at least 1h',
          fieldPath: '.validity' },
        (self) => durationMs(self.validity) >= 3_600_000,
      ),
    ],
  },
);

/** The rules of a section that Vault mode requires and StaticKey mode forbids. */
function vaultModeOnly(section: 'vault' | 'kes') {
  return [
    celRule<SpecSelf>(
      { rule: `self.mode != 'Vault' || has(self.${section})`, message: `${section} is required when mode is Vault`,
        fieldPath: `.${section}`, reason: 'FieldValueRequired' },
      (self) => self.mode !== 'Vault' || self[section] !== undefined,
    ),
    celRule<SpecSelf>(
      { rule: `self.mode != 'StaticKey' || !has(self.${section})`,
        message: `${section} must not be set when mode is StaticKey`, fieldPath: `.${section}`,
        reason: 'FieldValueForbidden' },
      (self) => self.mode !== 'StaticKey' || self[section] === undefined,
    ),
  ];
}

const specRules = [
  ...vaultModeOnly('vault'),
  ...vaultModeOnly('kes'),
  celRule<SpecSelf>(
    {
      // Guards keep a missing kes.keys (reported by the schema) from failing the rule's evaluation too.
      rule:
        "self.mode != 'Vault' || !has(self.kes) || !has(self.kes.keys) || !has(self.minio) || self.kes.keys.exists(k, k.name == self.minio.keyName)",
      message: 'must be one of the key names in kes.keys',
      fieldPath: '.minio.keyName',
    },
    (self) =>
      self.mode !== 'Vault' ||
      self.kes === undefined ||
      self.kes.keys === undefined ||
      self.minio === undefined ||
      self.kes.keys.some((k) => k.name === self.minio?.keyName),
  ),
  celRule<SpecSelf>(
    {
      // MinIO can only use a key the operator created (Vault) or its one static key; a bucket's key decides MinIO's KES policy too.
      rule:
        "!has(self.minio) || !has(self.minio.buckets) || self.minio.buckets.all(b, !has(b.key) || (self.mode == 'StaticKey' ? b.key == self.minio.keyName : (has(self.kes) && has(self.kes.keys) && self.kes.keys.exists(k, k.name == b.key))))",
      message:
        'key of every bucket must be one of the key names in kes.keys (in StaticKey mode: minio.keyName), or unset for minio.keyName',
      fieldPath: '.minio.buckets',
    },
    (self) =>
      (self.minio?.buckets ?? []).every(
        (b) =>
          b.key === undefined || (self.mode === 'StaticKey'
            ? b.key === self.minio?.keyName
            : (self.kes?.keys ?? []).some((k) => k.name === b.key)),
      ),
  ),
  celRule<SpecSelf>(
    {
      rule:
        "!has(self.vault) || !has(self.vault.kesAuth) || self.vault.kesAuth != 'Kubernetes' || !has(self.kes) || !has(self.kes.serviceAccountName)",
      message:
        'must not be set when vault.kesAuth is Kubernetes: KES runs as the ServiceAccount <name>-kes the operator creates, the only one its Vault role takes',
      fieldPath: '.kes.serviceAccountName',
      reason: 'FieldValueForbidden',
    },
    (self) => self.vault?.kesAuth !== 'Kubernetes' || self.kes?.serviceAccountName === undefined,
  ),
  celRule<SpecSelf>(
    {
      // The static key Secret holds a key of this name; another name would find no key.
      rule:
        "self.mode != 'StaticKey' || !has(self.minio) || !has(oldSelf.minio) || self.minio.keyName == oldSelf.minio.keyName",
      message: 'is immutable in StaticKey mode: the static key is stored under this name',
      fieldPath: '.minio.keyName',
    },
    (self, oldSelf) => {
      const old = oldSelf as SpecSelf | undefined;
      return self.mode !== 'StaticKey' || self.minio === undefined || old?.minio === undefined ||
        self.minio.keyName === old.minio.keyName;
    },
  ),
];

export const specSchema: JSONSchema = obj(
  'KMSDeploymentSpec',
  'Desired state of one MinIO -> KES -> Vault encryption stack.',
  {
    mode: {
      type: 'string',
      description:
        'Vault: MinIO gets its keys from KES, which stores them in Vault (production). StaticKey: MinIO uses one static master key from a Secret, without Vault or KES; for development and tests only, NOT for production.',
      enum: ['Vault', 'StaticKey'],
      default: 'Vault',
      'x-kubernetes-validations': [immutable('objects encrypted in one mode cannot be decrypted in the other')],
    },
    vault: vaultSchema,
    kes: kesSchema,
    minio: withFieldDefaults(minioSchema),
    tls: withFieldDefaults(tlsSchema),
    keyDeletionPolicy: {
      type: 'string',
      description:
        'What happens to master keys in Vault when the KMSDeployment is deleted or a key is removed from kes.keys. Retain keeps them (data stays decryptable if the stack is rebuilt); Delete removes them, which makes all data encrypted with them permanently unreadable.',
      enum: ['Retain', 'Delete'],
      default: 'Retain',
    },
    verifyEncryption: bool(
      'Check the chain end to end by generating and decrypting a data key with the MinIO identity (condition EncryptionVerified).',
      true,
    ),
  },
  { 'x-kubernetes-validations': specRules },
);
