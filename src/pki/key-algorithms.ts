// The key types the operator issues, apart from the key code (keys.ts loads the ASN.1 library): the
// policy and the status metrics read them in an operator that has loaded no certificate code yet.

/** Key types the operator generates. ECDSA-P256 is what the guide uses and the default. */
export const keyAlgorithms = ['ECDSA-P256', 'ECDSA-P384'] as const;
export type KeyAlgorithm = (typeof keyAlgorithms)[number];
export const defaultKeyAlgorithm: KeyAlgorithm = 'ECDSA-P256';
