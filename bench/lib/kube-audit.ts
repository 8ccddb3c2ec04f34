// Counting the Kubernetes writes of one identity from kube-apiserver's audit log. The API server's
// apiserver_request_total has no user label, and the benchmark itself writes too (it creates and
// changes the KMSDeployments), so the operator gets its own ServiceAccount and the audit log, which
// records every write with its user, tells whose write it was.
import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** Logs write requests only (at Metadata level: no bodies), once per request when the response is complete. */
export const WRITE_AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted, Panic]
rules:
  - level: Metadata
    verbs: [create, update, patch, delete, deletecollection]
  - level: None
`;

export interface KubeWrite {
  user: string;
  verb: string;
  /** "secrets", "kmsdeployments/status", ... */
  resource: string;
  namespace: string;
  name: string;
  code: number;
}

interface AuditEvent {
  stage?: string;
  verb?: string;
  user?: { username?: string };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
}

/** One audit log line to a write record; undefined for lines that are not a completed write. */
export function parseAuditLine(line: string): KubeWrite | undefined {
  if (!line.trim()) return undefined;
  const event = JSON.parse(line) as AuditEvent;
  if (event.stage !== 'ResponseComplete' || !event.verb) return undefined;
  const ref = event.objectRef ?? {};
  return {
    user: event.user?.username ?? '',
    verb: event.verb,
    resource: ref.subresource ? `${ref.resource ?? ''}/${ref.subresource}` : (ref.resource ?? ''),
    namespace: ref.namespace ?? '',
    name: ref.name ?? '',
    code: event.responseStatus?.code ?? 0,
  };
}

/** "resource verb" -> count, e.g. { "secrets patch": 100 }. */
export function breakdown(writes: readonly KubeWrite[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const write of writes) {
    const key = `${write.resource} ${write.verb}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

/** Reads a JSON-lines log as it grows; `since(mark)` gives the records parsed after a mark. */
export class JsonLinesTail<T> {
  private offset = 0;
  private partial = '';
  private readonly records: T[] = [];

  constructor(
    readonly path: string,
    private readonly parse: (line: string) => T | undefined,
  ) {}

  /** Position to measure from: the number of records so far. */
  mark(): number {
    this.poll();
    return this.records.length;
  }

  since(mark: number): T[] {
    this.poll();
    return this.records.slice(mark);
  }

  private poll(): void {
    let size: number;
    try {
      size = statSync(this.path).size;
    } catch {
      return; // not written yet
    }
    if (size <= this.offset) return;
    const buffer = Buffer.alloc(size - this.offset);
    const fd = openSync(this.path, 'r');
    try {
      readSync(fd, buffer, 0, buffer.length, this.offset);
    } finally {
      closeSync(fd);
    }
    this.offset = size;
    const lines = (this.partial + buffer.toString('utf8')).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const record = this.parse(line);
      if (record !== undefined) this.records.push(record);
    }
  }
}

export class KubeAuditLog extends JsonLinesTail<KubeWrite> {
  constructor(path: string) {
    super(path, parseAuditLine);
  }
}
