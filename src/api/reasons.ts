// Every reason a KMSDeployment condition or Event can carry, in one place (as cert-manager's
// constants.go), in api/ so that the libraries whose results carry a reason (Vault's: VaultConditionReason
// in vault/reconcile.ts; MinIO's refused changes: minio/changes.ts; the PKI plan: CertificatesReason in
// pki/status.ts) type them as a subset of these, and the controller's steps write them unchanged. KES's
// errors are the library's classification (KesErrorReason), not reasons; the reasons they become are
// here (KES*, Key*, Keystore*) and the mapping is the controller's (kes-access.ts).

/** Reasons of the conditions the steps of the data path report. */
export const ConditionReason = {
  /** SpecValid: the spec passed every check. */
  Valid: 'Valid',
  /** SpecValid or a step: a spec field cannot be used; the message names it. */
  InvalidSpec: 'InvalidSpec',
  /** A stage the spec's mode does not use (e.g. no KES in StaticKey mode); True so Ready can be. */
  NotUsed: 'NotUsed',
  /** VaultConfigured: spec.vault.address is not among the servers the operator may contact (--vault-addresses). */
  VaultAddressNotAllowed: 'VaultAddressNotAllowed',
  /** VaultConfigured: spec.vault.kv.prefix is outside what --kv-prefix-template allows this namespace. */
  PrefixNotAllowed: 'PrefixNotAllowed',
  /** VaultConfigured: an older KMSDeployment's prefix contains this one's, or is contained in it. */
  PrefixInUse: 'PrefixInUse',
  /** CertificatesReady: spec.tls.caSecretRef names a Secret the operator writes itself. */
  InvalidCASecret: 'InvalidCASecret',
  /** CertificatesReady: a certificate Secret of the user's (spec.minio.tls / spec.kes.tls certificateSecretRef) is unusable. */
  InvalidCertificateSecret: 'InvalidCertificateSecret',
  /** CertificatesReady: nothing to issue, every certificate is the user's (certificateSecretRef) and valid. */
  UserProvided: 'UserProvided',
  /** KESAvailable, KeysReady, MinIOAvailable, EncryptionVerified: a certificate Secret is not there yet. */
  WaitingForCertificates: 'WaitingForCertificates',
  /** KESAvailable: the AppRole Secret the Vault step writes does not exist yet. */
  WaitingForVaultCredentials: 'WaitingForVaultCredentials',
  /** KESAvailable: spec.vault.tls.caSecretRef names a Secret without the key. */
  VaultCAMissing: 'VaultCAMissing',
  /** KESAvailable: the KES config could not be rendered from the spec. */
  InvalidConfiguration: 'InvalidConfiguration',
  /** KESAvailable, MinIOAvailable: the workload does not yet run the declared template on every replica, ready. */
  WaitingForPods: 'WaitingForPods',
  /** KESAvailable, MinIOAvailable: every replica runs the declared template and is ready. */
  Available: 'Available',
  /** KeysReady: every key of spec.kes.keys exists and its canary decrypts. */
  KeysPresent: 'KeysPresent',
  /** KeysReady: a recorded key is gone from Vault; a person decides (docs/kes.md). */
  KeyMissing: 'KeyMissing',
  /** KeysReady, EncryptionVerified: the key in Vault is not the one the operator created. */
  KeyReplaced: 'KeyReplaced',
  /** MinIOAvailable: the user's root credentials Secret does not exist. */
  RootCredentialsMissing: 'RootCredentialsMissing',
  /** MinIOAvailable: the user's root credentials are too short or lack a key. */
  RootCredentialsInvalid: 'RootCredentialsInvalid',
  /** MinIOAvailable: the static key Secret holds no key, or one of another name. */
  StaticKeyInvalid: 'StaticKeyInvalid',
  /** MinIOAvailable: a larger spec.minio.storage.size was refused by the cluster. */
  StorageExpansionNotSupported: 'StorageExpansionNotSupported',
  /** EncryptionVerified: spec.verifyEncryption is false. */
  Disabled: 'Disabled',
  /** EncryptionVerified: StaticKey mode has no KES to verify. */
  NotApplicable: 'NotApplicable',
  /** EncryptionVerified: a data key and the key's canary decrypted with MinIO's identity. */
  RoundTripSucceeded: 'RoundTripSucceeded',
  /** EncryptionVerified: KES decrypted a data key to a different value. */
  RoundTripMismatch: 'RoundTripMismatch',
  /** EncryptionVerified: the keys step has not recorded the key's canary yet. */
  CanaryMissing: 'CanaryMissing',
  /** BucketsReady: every bucket of spec.minio.buckets exists with its default encryption. */
  BucketsReady: 'BucketsReady',
  /** BucketsReady: a bucket could not be checked, created or configured, or cannot become what the spec says; the message names it. */
  BucketsFailed: 'BucketsFailed',
  /** KeysReady, EncryptionVerified: KES refused the operator's or MinIO's identity (unknown, or its policy does not allow the call). */
  KESPolicyDenied: 'KESPolicyDenied',
  /** KeysReady, EncryptionVerified: KES says the key does not exist. */
  KeyNotFound: 'KeyNotFound',
  /** KeysReady: KES says the key exists already. */
  KeyExists: 'KeyExists',
  /** KeysReady, EncryptionVerified: KES could not decrypt with the key. */
  DecryptionFailed: 'DecryptionFailed',
  /** KeysReady, EncryptionVerified: KES rejected the request as malformed. */
  KESRequestRejected: 'KESRequestRejected',
  /** KeysReady, EncryptionVerified: KES could not use Vault (policy, KV mount, seal). */
  KeystoreError: 'KeystoreError',
  /** KeysReady, EncryptionVerified: KES cannot reach Vault. */
  KeystoreUnreachable: 'KeystoreUnreachable',
  /** KeysReady, EncryptionVerified: KES does not answer. */
  KESUnreachable: 'KESUnreachable',
  /** KeysReady, EncryptionVerified: KES answered something the operator does not understand. */
  KESError: 'KESError',
  /** VaultConfigured: the KV mount, KES's policy and login (AppRole or Kubernetes role) are in place. */
  Configured: 'Configured',
  /** VaultConfigured: Vault refused the operator's login (token or Kubernetes auth role). */
  AuthFailed: 'AuthFailed',
  /** VaultConfigured: the operator's Vault token lacks a permission it needs; the message names the path. */
  PermissionDenied: 'PermissionDenied',
  /** VaultConfigured: no answer from Vault (connection refused, DNS, TLS, timeout). */
  Unreachable: 'Unreachable',
  /** VaultConfigured: Vault is sealed. */
  Sealed: 'Sealed',
  /** VaultConfigured: the KV mount is of another version than spec.vault.kv.version. */
  KVVersionMismatch: 'KVVersionMismatch',
  /** VaultConfigured: the KV mount does not exist and spec.vault.kv.create is false. */
  KVMountMissing: 'KVMountMissing',
  /** VaultConfigured: the AppRole mount path is taken by another auth method. */
  AppRoleMountConflict: 'AppRoleMountConflict',
  /** VaultConfigured: spec.vault.kesKubernetes.mountPath is not a Kubernetes auth mount. */
  KubernetesAuthMountMissing: 'KubernetesAuthMountMissing',
  /** VaultConfigured: a Secret the Vault step reads (the operator's token Secret) does not exist. */
  SecretMissing: 'SecretMissing',
  /** VaultConfigured: Vault answered with a redirect, which the operator does not follow (its token would go elsewhere). */
  VaultRedirectRefused: 'VaultRedirectRefused',
  /** VaultConfigured: a Vault policy or role of this deployment's name belongs to another KMSDeployment (its ownership record). */
  VaultNameConflict: 'VaultNameConflict',
  /** VaultConfigured: Vault answered with another error; the message says which. */
  VaultError: 'VaultError',
  /** CertificatesReady: every certificate is issued and valid, none due for renewal. */
  Issued: 'Issued',
  /** CertificatesReady: a certificate (or the CA) is being replaced; the message names it and why. */
  Renewing: 'Renewing',
  /** MinIOAvailable: a spec change MinIO cannot take safely (shrinking or reshaping a pool, drives); the message names the field. */
  UnsafeChangeRefused: 'UnsafeChangeRefused',
  /** Ready: every other condition is True. */
  AllConditionsTrue: 'AllConditionsTrue',
  /** Ready: a condition has not been reported yet. */
  Pending: 'Pending',
} as const;

/** Reasons of the Events the controller emits on a KMSDeployment (besides the condition reasons it repeats). */
export const EventReason = {
  /** Normal: Ready became True. */
  Ready: 'Ready',
  /** Normal: the PKI step issued a certificate; the note says which and why. */
  CertificateIssued: 'CertificateIssued',
  /** Normal: the Vault step changed something in Vault; the note says what. */
  VaultConfigured: 'VaultConfigured',
  /** Normal: the finalizer's Vault cleanup removed something. */
  VaultCleanedUp: 'VaultCleanedUp',
  /** Warning: a cleanup was skipped (by annotation, or a server not allowed). */
  CleanupSkipped: 'CleanupSkipped',
  /** Warning: a cleanup failed; deletion waits. */
  CleanupFailed: 'CleanupFailed',
  /** Warning: keyDeletionPolicy Delete was not applied; the keys stay. */
  KeysRetained: 'KeysRetained',
  /** Warning: key names that are not KES key names were left in Vault. */
  KeysSkipped: 'KeysSkipped',
  /** Normal: the keys step created a master key. */
  KeyCreated: 'KeyCreated',
  /** Normal: a master key that already existed is now recorded as this deployment's. */
  KeyAdopted: 'KeyAdopted',
  /** Warning: a person accepted a new master key in place of a lost one. */
  NewKeyAccepted: 'NewKeyAccepted',
  /** Warning: a master key that left spec.kes.keys was deleted (keyDeletionPolicy Delete). */
  KeyDeleted: 'KeyDeleted',
  /** Warning: KES listed entries whose names are not KES key names; left untouched. */
  KeyNameRejected: 'KeyNameRejected',
  /** Normal: the buckets step created a bucket or changed its versioning or default encryption; the note says what. */
  BucketConfigured: 'BucketConfigured',
  /** Normal: the servers of a MinIO pool were restarted together for a new pool list. */
  PoolsRestarted: 'PoolsRestarted',
  /** Normal: MinIO's drive claims were asked to grow. */
  DrivesExpanding: 'DrivesExpanding',
} as const;
