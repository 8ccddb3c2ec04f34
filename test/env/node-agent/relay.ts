// Runs inside the node network namespace (started by NodeNetwork with `ip netns exec`), so it can reach the
// Pods' addresses, which the host cannot. It answers on a Unix socket (filesystem sockets are not tied to a
// network namespace): POST / {url, timeoutMs, headers} -> {status, body} or {error}. HTTPS is not verified,
// as the kubelet's probes do not verify. Its optional second argument `address:port=socket` forwards TCP
// connections on address:port to that Unix socket (Pods reach the API server that way). Plain Node (type
// stripping), no dependencies. An HTTP CONNECT to `<pod address>:<port>` on the Unix socket opens a TCP
// tunnel to that Pod (tests use it as `kubectl port-forward`); other addresses are refused. Further `address:port=socket` arguments add more such forwards.
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, createServer as createTcpServer, type Socket } from 'node:net';
import { rmSync } from 'node:fs';

interface Probe {
  url: string;
  timeoutMs: number;
  headers?: Record<string, string>;
}
interface Answer {
  status?: number;
  body?: string;
  error?: string;
}

const MAX_BODY = 64 * 1024;

function get(probe: Probe): Promise<Answer> {
  const url = new URL(probe.url);
  if (url.protocol === 'tcp:') {
    return new Promise((resolve) => {
      const socket = connect({ host: url.hostname, port: Number(url.port), timeout: probe.timeoutMs }, () => {
        socket.destroy();
        resolve({ status: 0 });
      });
      socket.on('timeout', () => socket.destroy(new Error(`connect ${url.host}: timeout`)));
      socket.on('error', (err) => resolve({ error: err.message }));
    });
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = send(url, { timeout: probe.timeoutMs, headers: probe.headers ?? {}, rejectUnauthorized: false }, (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < MAX_BODY) body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url.pathname}: timeout after ${probe.timeoutMs} ms`)));
    req.on('error', (err: Error) => resolve({ error: err.message }));
    req.end();
  });
}

const socketPath = process.argv[2];
if (!socketPath) throw new Error('usage: relay.ts <unix socket path>');
rmSync(socketPath, { force: true });
const server = createServer((req, res) => {
  let text = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => (text += chunk));
  req.on('end', () => {
    let probe: Probe;
    try {
      probe = JSON.parse(text) as Probe;
    } catch {
      res.writeHead(400).end(JSON.stringify({ error: 'the relay expects a JSON probe' }));
      return;
    }
    void get(probe).then((answer) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer)));
  });
});
server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
  const target = /^(10\.244\.0\.\d{1,3}):(\d{1,5})$/.exec(req.url ?? '');
  if (!target) {
    client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    return;
  }
  const upstream = connect({ host: target[1]!, port: Number(target[2]) }, () => {
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) upstream.write(head);
    client.pipe(upstream).pipe(client);
  });
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', () => (client.writable ? client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n') : close()));
});
server.listen(socketPath);

for (const argument of process.argv.slice(3)) {
  const forward = /^([\d.]+):(\d+)=(.+)$/.exec(argument);
  if (!forward) throw new Error(`relay: a forward is address:port=socket, not ${argument}`);
  createTcpServer((client) => {
    const upstream = connect(forward[3]!);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
  }).listen(Number(forward[2]), forward[1]);
}
process.on('SIGTERM', () => server.close(() => process.exit(0)));
