// The one rule for "rolled out to this checksum": whether a Deployment or StatefulSet (as read from the
// cache) runs the pod template that carries a checksum, on all replicas and ready. The KES and MinIO
// steps ask it of the config checksum, the PKI step of the certificates checksum, the Vault step of
// the AppRole checksum. Pure: reads only the objects' status fields.
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
    unavailableReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
  };
}

export interface Rollout {
  ready: boolean;
  readyReplicas: number;
  /** What the condition message says about the rollout. */
  message: string;
}

/**
 * Whether a live workload runs its own current template on every replica, ready: the rollout of whatever
 * was last declared is over, whatever the operator declares now.
 */
export function rolledOutAsIs(kind: 'Deployment' | 'StatefulSet', live: unknown): boolean {
  const workload = live as (WorkloadView & { spec?: { replicas?: number } }) | undefined;
  const checksum = workload?.spec?.template?.metadata?.annotations?.[CONFIG_CHECKSUM_ANNOTATION] ?? '';
  return rolloutOf(kind, workload, workload?.spec?.replicas ?? 1, checksum).ready;
}

/**
 * `live` is the workload from the cache (undefined when it does not exist yet); `replicas` and
 * `checksum` are what the operator just declared, `annotation` the pod-template annotation that
 * carries the checksum. Until the cache shows that checksum, the workload still runs (or reports on)
 * the previous template.
 */
export function rolloutOf(kind: 'Deployment' | 'StatefulSet', live: unknown, replicas: number, checksum: string,
  annotation = CONFIG_CHECKSUM_ANNOTATION): Rollout
{
  const workload = live as WorkloadView | undefined;
  if (!workload) return { ready: false, readyReplicas: 0, message: `the ${kind} is being created` };
  const status = workload.status ?? {};
  const readyReplicas = status.readyReplicas ?? 0;
  const waiting = (message: string): Rollout => ({ ready: false, readyReplicas, message });
  if (workload.spec?.template?.metadata?.annotations?.[annotation] !== checksum) {
    return waiting(`the ${kind} is being updated to the new configuration`);
  }
  if ((status.observedGeneration ?? 0) < (workload.metadata?.generation ?? 0)) {
    return waiting(`the ${kind} controller has not observed the latest change yet`);
  }
  if ((status.updatedReplicas ?? 0) < replicas) {
    return waiting(`${status.updatedReplicas ?? 0}/${replicas} pods run the current configuration`);
  }
  if (kind === 'Deployment') {
    // Old pods still running (surge) would still serve the previous configuration.
    if ((status.replicas ?? 0) > replicas) {
      return waiting(`${(status.replicas ?? 0) - replicas} old pod(s) still terminating`);
    }
    if ((status.availableReplicas ?? 0) < replicas) {
      return waiting(`${status.availableReplicas ?? 0}/${replicas} pods available`);
    }
    if ((status.unavailableReplicas ?? 0) > 0) return waiting(`${status.unavailableReplicas} pod(s) unavailable`);
  } else if (status.currentRevision && status.updateRevision && status.currentRevision !== status.updateRevision) {
    return waiting(`pods are being replaced (revision ${status.updateRevision})`);
  } else if (status.availableReplicas !== undefined && status.availableReplicas < replicas) {
    // minReadySeconds (MinIO's peers finding a restarted server) has not passed for the last pod yet.
    return waiting(`${status.availableReplicas}/${replicas} pods available`);
  }
  if (readyReplicas < replicas) return waiting(`${readyReplicas}/${replicas} pods ready`);
  return { ready: true, readyReplicas, message: `${readyReplicas}/${replicas} pods ready` };
}
