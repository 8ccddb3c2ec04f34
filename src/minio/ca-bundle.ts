// The CA bundle S3 clients verify MinIO's certificate with, published as a ConfigMap: CA certificates
// are public, and a client that may read ConfigMaps need not be allowed to read any Secret.
import type { V1ConfigMap } from '@kubernetes/client-node';
import { stackLabels } from '../workload/labels.ts';
import type { DeploymentRef } from '../workload/names.ts';
import { CA_BUNDLE_KEY, minioNames } from './names.ts';

/** `<name>-minio-ca` with `ca.crt`: the PEM bundle (current CA first, then any CA still trusted during a rotation). */
export function buildMinioCAConfigMap(ref: DeploymentRef, bundlePem: string): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: minioNames(ref.name).caConfigMap, namespace: ref.namespace,
      labels: stackLabels(ref.name, 'minio') },
    data: { [CA_BUNDLE_KEY]: bundlePem },
  };
}
