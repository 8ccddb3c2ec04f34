// Which events of a reconciled object (a KMSDeployment) ask for a reconcile. An update that changed only
// its status (or resourceVersion, managedFields) does not, as controller-runtime's GenerationChanged,
// AnnotationChanged and LabelChanged predicates have it, plus finalizers and deletion: such updates are the
// operator's own status writes, and each cost a reconcile that wrote nothing. The resync is the safety net.
import type { InformerEvent } from './informer.ts';
import { type KubeObject, objectKey } from './kube/resources.ts';

/** What of an object a reconcile acts on, beside its spec's generation: identity, deletion, labels, annotations, finalizers. */
export function changeTokenOf(obj: KubeObject): string {
  const m = obj.metadata;
  return JSON.stringify([m.uid, m.generation, m.deletionTimestamp, m.annotations ?? {}, m.labels ?? {},
    m.finalizers ?? []]);
}

export class ReconcileTrigger {
  /** changeTokenOf of the last event of each object. */
  private readonly tokens = new Map<string, string>();

  asksForReconcile(event: InformerEvent, obj: KubeObject): boolean {
    const key = objectKey(obj);
    if (event === 'delete') {
      this.tokens.delete(key);
      return true;
    }
    const token = changeTokenOf(obj);
    const before = this.tokens.get(key);
    this.tokens.set(key, token);
    return event === 'add' || before !== token;
  }
}
