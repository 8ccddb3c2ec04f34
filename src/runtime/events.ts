// Kubernetes Events (events.k8s.io/v1) about a KMSDeployment, for what its user should see. The same
// event (object, type, reason, note) is emitted once per de-duplication window, not on every reconcile,
// so a steady state sends no Event writes. Emitting is best effort: a failure is logged, never thrown.
import { type Logger, redactString } from './logger.ts';
import { type KubeObject, resources } from './kube/resources.ts';
import { eventsEmitted } from './metrics.ts';
import { microTime } from './leader.ts';

export const REPORTING_CONTROLLER = 'kmsstack.io/kmsstack-operator';

export interface EventInput {
  type: 'Normal' | 'Warning';
  /** CamelCase, e.g. Created, Rotated, ReconcileFailed. */
  reason: string;
  /** What the operator did or tried, e.g. Apply, Cleanup (events.k8s.io "action"). */
  action: string;
  note: string;
  /** What makes two events "the same" for de-duplication; default: type, reason and note. */
  dedupKey?: string;
}

/** The longest note events.k8s.io/v1 accepts, in bytes. */
const NOTE_LIMIT = 1024;

/**
 * One note for several things done in one pass (one Event, not one per thing: an object's creation is
 * then a handful of Events): `prefix` and `items` joined with '; ', cut at whole items to fit an Event, with
 * how many were left out.
 */
export function listNote(items: readonly string[], prefix = ''): string {
  let note = '';
  for (const [index, item] of items.entries()) {
    const next = note ? `${note}; ${item}` : item;
    const rest = items.length - index - 1;
    const tail = rest > 0 ? `; and ${rest} more` : '';
    if (Buffer.byteLength(prefix + next + tail) > NOTE_LIMIT) {
      return prefix + (note ? `${note}; and ${items.length - index} more` : item);
    }
    note = next;
  }
  return prefix + note;
}

/** The one call the recorder needs (KubeClient has it). */
export interface EventWriter {
  create(obj: KubeObject): Promise<unknown>;
}

export interface EventSink {
  emit(regarding: KubeObject, event: EventInput): Promise<void>;
}

export class EventRecorder implements EventSink {
  private readonly lastEmitted = new Map<string, number>();

  constructor(
    private readonly client: EventWriter,
    private readonly reportingInstance: string,
    private readonly logger: Logger,
    private readonly dedupWindowMs = 60 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {}

  async emit(regarding: KubeObject, input: EventInput): Promise<void> {
    const note = redactString(input.note).slice(0, NOTE_LIMIT);
    const dedupKey = [regarding.metadata.uid, input.type, input.reason, input.dedupKey ?? note].join('\u0000');
    const now = this.now();
    const last = this.lastEmitted.get(dedupKey);
    if (last !== undefined && now - last < this.dedupWindowMs) return;
    this.lastEmitted.set(dedupKey, now);
    this.forgetOld(now);
    const namespace = regarding.metadata.namespace ?? 'default';
    const event: KubeObject = {
      apiVersion: resources.Event.apiVersion,
      kind: resources.Event.kind,
      metadata: {
        name: `${regarding.metadata.name ?? 'object'}.${
          (BigInt(now) * 1_000_000n + BigInt(this.lastEmitted.size)).toString(16)
        }`,
        namespace,
      },
      eventTime: microTime(now),
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: this.reportingInstance.slice(0, 128),
      action: input.action,
      reason: input.reason,
      note,
      type: input.type,
      regarding: {
        apiVersion: regarding.apiVersion,
        kind: regarding.kind,
        name: regarding.metadata.name,
        namespace,
        uid: regarding.metadata.uid,
        resourceVersion: regarding.metadata.resourceVersion,
      },
    };
    try {
      await this.client.create(event);
      eventsEmitted.inc({ type: input.type, reason: input.reason });
    } catch (err) {
      this.lastEmitted.delete(dedupKey);
      this.logger.warn({ err, reason: input.reason }, 'could not emit a Kubernetes Event');
    }
  }

  private forgetOld(now: number): void {
    if (this.lastEmitted.size < 10_000) return;
    for (const [key, at] of this.lastEmitted) if (now - at >= this.dedupWindowMs) this.lastEmitted.delete(key);
  }
}
