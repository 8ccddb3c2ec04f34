// Loopback HTTP servers that misbehave the way a hostile or broken upstream would, for the limits of
// the operator's outbound calls: one drips a byte at a time and never finishes, one sends a huge body.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface HostileServer {
  url: string;
  /** Requests received so far ("METHOD path"). */
  requests: string[];
  close(): Promise<void>;
}

export type Behaviour = 'drip' | 'huge';

/** Answers 200 with a JSON content type, then either a byte every 200 ms for ever or `hugeBytes` quickly. */
function handler(behaviour: Behaviour, requests: string[], hugeBytes: number) {
  return (req: IncomingMessage, res: ServerResponse) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    if (behaviour === 'drip') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
      const timer = setInterval(() => res.write(' '), 200);
      res.on('close', () => clearInterval(timer));
      return;
    }
    // No content-length: the client cannot refuse up front and has to count.
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < hugeBytes) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end('{}');
    };
    res.on('close', () => (sent = hugeBytes));
    pump();
  };
}

async function listen(server: Server, scheme: string, requests: string[]): Promise<HostileServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export function startHostileServer(behaviour: Behaviour, options: { hugeBytes?: number; tls?: { cert: string; key: string } } = {}): Promise<HostileServer> {
  const requests: string[] = [];
  const handle = handler(behaviour, requests, options.hugeBytes ?? 256 * 1024 * 1024);
  if (options.tls) return listen(createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handle), 'https', requests);
  return listen(createHttpServer(handle), 'http', requests);
}
