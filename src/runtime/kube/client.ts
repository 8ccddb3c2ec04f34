// A JSON client for the Kubernetes API built on @kubernetes/client-node's transport (its KubeConfig
// authentication and fetch library). Objects stay plain JSON as the API server sends them: the typed
// models of the generated clients turn timestamps into Dates and drop fields they do not know, which
// would break the comparison of desired and live objects.
import type { RequestOptions as HttpsRequestOptions } from 'node:https';
import { type HttpMethod, IsomorphicFetchHttpLibrary, type KubeConfig, RequestContext } from '@kubernetes/client-node';
import { kubeRequestDuration, kubeRequests } from '../metrics.ts';
import { type KubeObject, resourceFor, resourcePath, type ResourceType } from './resources.ts';

export const FIELD_MANAGER = 'kmsstack-operator';
const REQUEST_TIMEOUT_MS = 30_000;
/** How long one connection pool serves requests before a fresh one picks up rotated TLS material. */
const DISPATCHER_TTL_MS = 5 * 60_000;

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

export interface KubeList<T extends KubeObject = KubeObject> {
  items: T[];
  metadata: { resourceVersion?: string; continue?: string };
}

/** An error answer of the API server; `reason` is the Status reason (NotFound, Conflict, Invalid...). */
export class KubeApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 409;
}

interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
  /** Label for metrics and errors, e.g. "secrets". */
  resource: string;
  /** Verb label for metrics: get, list, apply, create, update, delete. */
  verb: string;
  /** The Accept header (default application/json). */
  accept?: string;
}

/**
 * Told of every write this client makes: `writing` before the request (from then on the object may
 * differ from what anyone cached), then `written` with the API server's answer, or `deleted`. A write
 * that failed gets neither: it may or may not have happened.
 */
export interface WriteListener {
  writing(kind: string, namespace: string | undefined, name: string): void;
  written(obj: KubeObject): void;
  deleted(kind: string, namespace: string | undefined, name: string, uid: string | undefined): void;
}

export class KubeClient {
  private readonly http = new IsomorphicFetchHttpLibrary();
  private pool: { dispatcher: Dispatcher; expires: number } | undefined;
  private readonly writeListeners: WriteListener[] = [];

  constructor(
    readonly kubeConfig: KubeConfig,
    readonly fieldManager: string = FIELD_MANAGER,
    /** Per request; leader election uses a shorter one so a hung request cannot outlast its renew deadline. */
    readonly timeoutMs: number = REQUEST_TIMEOUT_MS,
  ) {}

  /** The cache uses this to know when it has caught up with this client's writes (read-your-writes). */
  onWrite(listener: WriteListener): void {
    this.writeListeners.push(listener);
  }

  /** Sends a write of `obj` (or of its subresource), telling the write listeners. */
  private async write<T extends KubeObject>(obj: KubeObject, send: () => Promise<T>): Promise<T> {
    const { kind = '', metadata } = obj;
    for (const listener of this.writeListeners) listener.writing(kind, metadata.namespace, metadata.name ?? '');
    const answer = await send();
    for (const listener of this.writeListeners) listener.written({ ...answer, kind: answer.kind ?? kind });
    return answer;
  }

  get server(): string {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    return cluster.server;
  }

  async list<T extends KubeObject = KubeObject>(type: ResourceType, namespace?: string,
    options: { labelSelector?: string; fieldSelector?: string } = {}): Promise<KubeList<T>>
  {
    const items: T[] = [];
    let resourceVersion: string | undefined;
    let continueToken: string | undefined;
    do {
      const page = await this.request<KubeList<T>>('GET', resourcePath(type, namespace), {
        query: { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, limit: '500',
          continue: continueToken },
        resource: type.plural,
        verb: 'list',
      });
      // List items carry no kind/apiVersion; watch events do. Set them so cached objects look alike.
      for (const item of page.items ?? []) items.push({ ...item, apiVersion: type.apiVersion, kind: type.kind });
      resourceVersion = page.metadata?.resourceVersion;
      continueToken = page.metadata?.continue || undefined;
    } while (continueToken);
    return { items, metadata: { resourceVersion } };
  }

  /** The object, or undefined when it does not exist. */
  async get<T extends KubeObject = KubeObject>(type: ResourceType, namespace: string | undefined,
    name: string): Promise<T | undefined>
  {
    try {
      return await this.request<T>('GET', resourcePath(type, namespace, name), { resource: type.plural, verb: 'get' });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Only the metadata of an object (PartialObjectMetadata), or undefined when it does not exist: enough to
   * see who owns it, without reading the contents of, say, someone else's Secret.
   */
  async getMetadata(type: ResourceType, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    try {
      return await this.request<KubeObject>('GET', resourcePath(type, namespace, name), {
        resource: type.plural,
        verb: 'get',
        accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
      });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Server-side apply of `obj` (or of its status with subresource "status") as this client's field manager. */
  async apply<T extends KubeObject = KubeObject>(obj: KubeObject,
    options: { subresource?: 'status'; force?: boolean } = {}): Promise<T>
  {
    const type = resourceFor(obj.apiVersion, obj.kind);
    return this.write(obj,
      () =>
        this.request<T>('PATCH', resourcePath(type, obj.metadata.namespace, requiredName(obj), options.subresource), {
          query: { fieldManager: this.fieldManager, force: options.force === false ? undefined : 'true' },
          body: obj,
          contentType: 'application/apply-patch+yaml',
          resource: options.subresource ? `${type.plural}/${options.subresource}` : type.plural,
          verb: 'apply',
        }));
  }

  async create<T extends KubeObject = KubeObject>(obj: KubeObject): Promise<T> {
    const type = resourceFor(obj.apiVersion, obj.kind);
    return this.write(obj, () =>
      this.request<T>('POST', resourcePath(type, obj.metadata.namespace), {
        query: { fieldManager: this.fieldManager },
        body: obj,
        resource: type.plural,
        verb: 'create',
      }));
  }

  /** PUT; fails with 409 Conflict when metadata.resourceVersion is stale (optimistic concurrency). */
  async replace<T extends KubeObject = KubeObject>(obj: KubeObject): Promise<T> {
    const type = resourceFor(obj.apiVersion, obj.kind);
    return this.write(obj, () =>
      this.request<T>('PUT', resourcePath(type, obj.metadata.namespace, requiredName(obj)), {
        query: { fieldManager: this.fieldManager },
        body: obj,
        resource: type.plural,
        verb: 'update',
      }));
  }

  /** Deletes the object if it still has `uid` (so a recreated namesake is never hit); false if it was gone. */
  async delete(type: ResourceType, namespace: string | undefined, name: string, uid?: string): Promise<boolean> {
    const body = { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background',
      ...(uid ? { preconditions: { uid } } : {}) };
    for (const listener of this.writeListeners) listener.writing(type.kind, namespace, name);
    const deleted = () => this.writeListeners.forEach((listener) => listener.deleted(type.kind, namespace, name, uid));
    try {
      await this.request('DELETE', resourcePath(type, namespace, name), { body, resource: type.plural,
        verb: 'delete' });
      deleted();
      return true;
    } catch (err) {
      if (isNotFound(err)) {
        deleted();
        return false;
      }
      if (uid && isConflict(err)) return false;
      throw err;
    }
  }

  async request<T>(method: string, path: string, options: RequestOptions): Promise<T> {
    const url = new URL(this.server + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, value);
    }
    const context = new RequestContext(url.toString(), method as HttpMethod);
    await this.authenticate(context);
    this.reuseConnections(context);
    context.setHeaderParam('Accept', options.accept ?? 'application/json');
    if (options.body !== undefined) {
      context.setHeaderParam('Content-Type', options.contentType ?? 'application/json');
      context.setBody(JSON.stringify(options.body));
    }
    const signal = AbortSignal.timeout(this.timeoutMs);
    context.setSignal(signal);
    const labels = { verb: options.verb, resource: options.resource };
    const endTimer = kubeRequestDuration.startTimer(labels);
    let code = 0;
    try {
      let text: string;
      const dispatcher = context.getDispatcher();
      if (dispatcher) {
        // The pool's own request(): undici's fetch layers (Request, Headers, web streams) cost several
        // times the request itself, for nothing this client uses (redirects, CORS, decompression).
        const answer = await dispatcher.request({ origin: url.origin, path: `${url.pathname}${url.search}`,
          method: method as HttpMethod, headers: context.getHeaders(), body: context.getBody() as string | undefined,
          signal });
        code = answer.statusCode;
        text = await answer.body.text();
      } else {
        const response = await this.http.send(context).toPromise();
        code = response.httpStatusCode;
        text = await response.body.text();
      }
      if (code < 200 || code > 299) throw apiError(method, path, code, text);
      return (text ? JSON.parse(text) : {}) as T;
    } finally {
      endTimer();
      kubeRequests.inc({ ...labels, code: String(code) });
    }
  }

  /**
   * The kubeconfig's authentication for one request. client-node's applySecurityAuthentication also
   * gives every request a new undici Agent (a new TLS connection pool), which reuseConnections would
   * close unused: while the pool lives, a request takes only the auth headers (applyToHTTPSOptions: the
   * same authenticators, token files and exec plugins, so rotated tokens are picked up).
   */
  private async authenticate(context: RequestContext): Promise<void> {
    if (!this.pool || Date.now() >= this.pool.expires) {
      await this.kubeConfig.applySecurityAuthentication(context);
      return;
    }
    const options: HttpsRequestOptions = {};
    await this.kubeConfig.applyToHTTPSOptions(options);
    // applySecurityAuthentication's order: basic auth first, then the headers (a bearer token wins).
    if (options.auth) context.setHeaderParam('Authorization', `Basic ${Buffer.from(options.auth).toString('base64')}`);
    for (const [key, value] of Object.entries(options.headers ?? {})) context.setHeaderParam(key, `${value}`);
  }

  /**
   * One connection pool instead of one per request: a handshake per request and hundreds of open sockets
   * under load otherwise. A fresh dispatcher from authenticate replaces an expired pool (rotated TLS
   * material is picked up); synchronous, so nothing can close the pool between this and the request.
   */
  private reuseConnections(context: RequestContext): void {
    const fresh = context.getDispatcher();
    const now = Date.now();
    if (fresh && (!this.pool || now >= this.pool.expires)) {
      const previous = this.pool?.dispatcher;
      this.pool = { dispatcher: fresh, expires: now + DISPATCHER_TTL_MS };
      void previous?.close().catch(() => undefined); // lets in-flight requests finish
      return;
    }
    if (fresh && fresh !== this.pool?.dispatcher) void fresh.close().catch(() => undefined);
    if (this.pool) context.setDispatcher(this.pool.dispatcher);
  }

  /** Closes the pooled connections (at shutdown). */
  async close(): Promise<void> {
    const dispatcher = this.pool?.dispatcher;
    this.pool = undefined;
    await dispatcher?.close().catch(() => undefined);
  }
}

function requiredName(obj: KubeObject): string {
  if (!obj.metadata.name) throw new Error(`${obj.kind ?? 'object'} without metadata.name`);
  return obj.metadata.name;
}

function apiError(method: string, path: string, code: number, text: string): KubeApiError {
  let reason = '';
  let message = text.slice(0, 500);
  try {
    const status = JSON.parse(text) as { reason?: string; message?: string };
    reason = status.reason ?? '';
    message = status.message ?? message;
  } catch {
    // not a Status object: keep the (truncated) text
  }
  return new KubeApiError(code, reason, `${method} ${path}: ${code} ${reason}: ${message}`.slice(0, 1000));
}
