// /healthz (the process serves), /readyz (the informer caches have synced) and /metrics (Prometheus),
// on one listener or, with --metrics-bind-address, /metrics on a listener of its own (e.g. loopback only).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { registry, scrapeMetrics } from './metrics.ts';

export interface HealthChecks {
  ready(): boolean;
}

export class HttpEndpoints {
  private server: Server | undefined;

  constructor(
    private readonly checks: HealthChecks,
    /** Which endpoints this listener serves; the others answer 404. */
    private readonly serves: { health: boolean; metrics: boolean } = { health: true, metrics: true },
  ) {}

  /** Listens on host:port (port 0 = any free port); resolves with the bound port. */
  async listen(host: string, port: number): Promise<number> {
    const server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      const health = this.serves.health;
      if (health && (path === '/healthz' || path === '/livez')) {
        response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      } else if (health && path === '/readyz') {
        const ready = this.checks.ready();
        response.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(
          ready ? 'ok' : 'informer caches not synced',
        );
      } else if (this.serves.metrics && path === '/metrics') {
        scrapeMetrics().then(
          (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
          (err: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(String(err)),
        );
      } else {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      }
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
