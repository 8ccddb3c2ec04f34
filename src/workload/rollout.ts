// Whether a Deployment or StatefulSet (as read from the cache) runs the pod template the operator
// wants, on all replicas and ready. Pure: reads only the objects' status fields.
import { CONFIG_CHECKSUM_ANNOTATION } from './labels.ts';

interface WorkloadView {
  metadata?: { generation?: number };
  spec?: { template?: { metadata?: { annotations?: Record<string, string> } } };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    updatedReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
  };
}

export interface Rollout {
  ready: boolean;
  readyReplicas: number;
  /** For the condition message. */
  message: string;
}

/**
 * `live` is the workload from the cache (undefined when it does not exist yet); `replicas` and
 * `checksum` are what the operator just declared. Until the cache shows that checksum, the
 * workload still runs (or reports on) the previous configuration.
 */
export function rolloutOf(kind: 'Deployment' | 'StatefulSet', live: unknown, replicas: number, checksum: string): Rollout {
  const workload = live as WorkloadView | undefined;
  if (!workload) return { ready: false, readyReplicas: 0, message: `the ${kind} is being created` };
  const status = workload.status ?? {};
  const readyReplicas = status.readyReplicas ?? 0;
  const waiting = (message: string): Rollout => ({ ready: false, readyReplicas, message });
  if (workload.spec?.template?.metadata?.annotations?.[CONFIG_CHECKSUM_ANNOTATION] !== checksum) {
    return waiting(`the ${kind} is being updated to the new configuration`);
  }
  if ((status.observedGeneration ?? 0) < (workload.metadata?.generation ?? 0)) {
    return waiting(`the ${kind} controller has not observed the latest change yet`);
  }
  if ((status.updatedReplicas ?? 0) < replicas) return waiting(`${status.updatedReplicas ?? 0}/${replicas} pods run the current configuration`);
  if (kind === 'Deployment') {
    // Old pods still running (surge) would still serve the previous configuration.
    if ((status.replicas ?? 0) > replicas) return waiting(`${(status.replicas ?? 0) - replicas} old pod(s) still terminating`);
    if ((status.availableReplicas ?? 0) < replicas) return waiting(`${status.availableReplicas ?? 0}/${replicas} pods available`);
  } else if (status.currentRevision && status.updateRevision && status.currentRevision !== status.updateRevision) {
    return waiting(`pods are being replaced (revision ${status.updateRevision})`);
  }
  if (readyReplicas < replicas) return waiting(`${readyReplicas}/${replicas} pods ready`);
  return { ready: true, readyReplicas, message: `${readyReplicas}/${replicas} pods ready` };
}
