// The one builder of KMSDeployment objects for the tests and benchmarks: the object around a spec;
// each suite passes the spec its case needs.
import { resources, type KubeObject } from '../../src/runtime/kube/resources.ts';

/** A KMSDeployment `namespace/name` with `spec` (not validated: invalid specs are test cases too). */
export function kmsDeploymentObject(namespace: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: resources.KMSDeployment.apiVersion, kind: 'KMSDeployment', metadata: { name, namespace }, spec };
}
