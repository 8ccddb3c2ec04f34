// The PKI of a KMSDeployment (guide steps 2 and 4.1). One reconcile runs:
//   observePki (Secrets -> facts) -> planCertificates (pure decision) -> materializePki (issue)
//   -> renderPkiSecrets (Secret data) + certificateChecksum (pod annotation) + certificatesStatus.
export { createCA, issueServerCertificate, issueClientCertificate, clockSkewAllowanceMs } from './issue.ts';
export type { IssuedCertificate, IssuedAuthority } from './issue.ts';
export { kesIdentity } from './identity.ts';
export { parseCertificatePem, parseCertificateBundle, isIssuedBy, keyMatchesCertificate } from './inspect.ts';
export { pkiSecretNames, kesServerDnsNames, minioServerDnsNames, kesLeafKinds, leafKinds } from './names.ts';
export type { LeafKind, PkiSecretNames } from './names.ts';
export { validateCASecret } from './validate-ca.ts';
export type { CAValidation, SecretContents } from './validate-ca.ts';
export { observePki } from './observe.ts';
export type { ObservedSecrets } from './observe.ts';
export { defaultPkiPolicy, pkiPolicyFor, validatePkiPolicy } from './policy.ts';
export { planCertificates } from './plan.ts';
export type { Decision, PkiDesired, PkiPlan, PlanResult } from './plan.ts';
export { materializePki } from './materialize.ts';
export type { PkiMaterial } from './materialize.ts';
export { renderPkiSecrets, certificateChecksum, secretsChecksum } from './secrets.ts';
export type { RenderedSecret } from './secrets.ts';
export { certificatesStatus } from './status.ts';
export { validateUserCertificate } from './user-certificate.ts';
export type { UserCertificate } from './user-certificate.ts';
