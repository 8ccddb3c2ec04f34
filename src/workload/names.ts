// How the parts of one stack find each other: the reference to the KMSDeployment every child is
// named after, and the KES Service that MinIO, the operator and the Vault step address. KES is
// reached by MinIO and by the controller, so its address lives below both.

/** The KMSDeployment a child belongs to: its name and namespace. */
export interface DeploymentRef {
  name: string;
  namespace: string;
}

/** The reference of a KMSDeployment object (empty strings for fields the object lacks). */
export function deploymentRefOf(object: { metadata: { name?: string; namespace?: string } }): DeploymentRef {
  return { name: object.metadata.name ?? '', namespace: object.metadata.namespace ?? '' };
}

/** The port KES serves its API on, in the container and on the Service. */
export const KES_PORT = 7373;

/** Names of the KES objects of KMSDeployment `name`. */
export function kesNames(name: string) {
  return {
    /** Deployment and Service. */
    workload: `${name}-kes`,
    configSecret: `${name}-kes-config`,
    /** The ServiceAccount KES runs as with spec.vault.kesAuth Kubernetes (its Vault role binds exactly it). */
    serviceAccount: `${name}-kes`,
  } as const;
}

/** The URL MinIO and the operator use to reach KES through its Service. */
export function kesEndpoint(ref: DeploymentRef, clusterDomain: string): string {
  return `https://${kesNames(ref.name).workload}.${ref.namespace}.svc.${clusterDomain}:${KES_PORT}`;
}
