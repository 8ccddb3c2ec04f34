// Calls the Kubernetes API as a bearer token, over node:https, and reports the HTTP status: the RBAC
// tests make the operator's real requests and need to see 403 as an answer rather than an exception.
import { request } from 'node:https';

export interface ApiAnswer {
  status: number;
  body: string;
  json<T = Record<string, unknown>>(): T;
}

export interface ApiCaller {
  (method: string, path: string, body?: unknown, contentType?: string): Promise<ApiAnswer>;
}

export function apiCaller(server: string, caPem: string, token: string): ApiCaller {
  return (method, path, body, contentType = 'application/json') =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
      if (payload !== undefined) headers['content-type'] = contentType;
      const req = request(`${server}${path}`, { method, ca: caPem, headers, timeout: 15_000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: text, json: <T>() => JSON.parse(text.split('\n')[0] || '{}') as T }),
        );
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timeout`)));
      req.on('error', reject);
      req.end(payload);
    });
}
