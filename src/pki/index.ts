// The PKI of a KMSDeployment (guide steps 2 and 4.1). One reconcile runs:
//   observePki (Secrets -> facts) -> planCertificates (pure decision) -> materializePki (issue)
//   -> renderPkiSecrets (Secret data) + certificateChecksum (pod annotation) + certificatesStatus.
export { createCA, issueServerCertificate, issueClientCertificate, clockSkewAllowanceMs } from './issue.ts';
export type { CertificateAuthority, IssuedCertificate, IssuedAuthority, DistinguishedName } from './issue.ts';
export { kesIdentity, kesIdentityOfCertificate } from './identity.ts';
export { parseCertificatePem, parseCertificateBundle, isIssuedBy, keyMatchesCertificate } from './inspect.ts';
export type { CertificateInfo, ParsedCertificate } from './inspect.ts';
export { generateKeyPair, exportPrivateKeyPem, keyAlgorithms, defaultKeyAlgorithm } from './keys.ts';
export type { KeyAlgorithm } from './keys.ts';
export { pkiSecretNames, kesServerDnsNames, leafKinds, defaultClusterDomain } from './names.ts';
export type { LeafKind, PkiSecretNames } from './names.ts';
export { validateCASecret } from './validate-ca.ts';
export type { CAValidation, SecretContents } from './validate-ca.ts';
export { observePki, decodeSecretData } from './observe.ts';
export type { ObservedSecrets, PkiObservation } from './observe.ts';
export { defaultPkiPolicy, pkiPolicyFor, validatePkiPolicy, caRotationLeadMs } from './policy.ts';
export type { PkiPolicy } from './policy.ts';
export { planCertificates } from './plan.ts';
export type { Decision, IssueReason, PkiDesired, PkiPlan, PlanInput, PlanResult } from './plan.ts';
export { materializePki } from './materialize.ts';
export type { PkiMaterial, CertificateMaterial } from './materialize.ts';
export { renderPkiSecrets, toSecretData, certificateChecksum, secretsChecksum } from './secrets.ts';
export type { RenderedSecret, RenderedPkiSecrets } from './secrets.ts';
export { certificatesStatus } from './status.ts';
export type { CertificatesStatus, CertificatesReason } from './status.ts';
