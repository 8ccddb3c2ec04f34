// The PKI of a KMSDeployment (guide steps 2 and 4.1). One reconcile runs:
//   observePki (Secrets -> facts) -> planCertificates (pure decision) -> materializePki (issue)
//   -> renderPkiSecrets (Secret data) + certificateChecksum (pod annotation) + certificatesStatus.
export { isIssuedBy, kesIdentity, keyMatchesCertificate, parseCertificateBundle,
  parseCertificatePem } from './inspect.ts';
export { clockSkewAllowanceMs, createCA, issueClientCertificate, issueServerCertificate } from './issue.ts';
export type { IssuedAuthority, IssuedCertificate } from './issue.ts';
export { materializePki } from './materialize.ts';
export type { PkiMaterial } from './materialize.ts';
export { kesLeafKinds, kesServerDnsNames, leafKinds, minioServerDnsNames, pkiSecretNames } from './names.ts';
export type { LeafKind, PkiSecretNames } from './names.ts';
export { observePki } from './observe.ts';
export type { ObservedSecrets } from './observe.ts';
export { planCertificates } from './plan.ts';
export type { Decision, PkiDesired, PkiPlan, PlanResult } from './plan.ts';
export { defaultPkiPolicy, pkiPolicyFor, validatePkiPolicy } from './policy.ts';
export { certificateChecksum, renderPkiSecrets, secretsChecksum } from './secrets.ts';
export type { RenderedSecret } from './secrets.ts';
export { certificatesStatus } from './status.ts';
export { validateUserCertificate } from './user-certificate.ts';
export type { UserCertificate } from './user-certificate.ts';
export { validateCASecret } from './validate-ca.ts';
export type { CAValidation, SecretContents } from './validate-ca.ts';
