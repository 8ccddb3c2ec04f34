// Reading an HTTP answer's body with a size limit: what the KES and Vault clients do with every answer,
// so that a server (or something in its place) cannot make the operator buffer without bound.
import type { IncomingMessage } from 'node:http';

/** What to do with the body once read, and when it grows past the limit (the answer is destroyed then). */
export interface CappedBodyHandlers {
  done(text: string): void;
  tooLarge(): void;
}

/** Collects the body of `res` as UTF-8 text, at most `maxBytes` of it. */
export function readCappedBody(res: IncomingMessage, maxBytes: number, handlers: CappedBodyHandlers): void {
  const chunks: Buffer[] = [];
  let size = 0;
  res.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > maxBytes) {
      handlers.tooLarge();
      res.destroy();
      return;
    }
    chunks.push(chunk);
  });
  res.on('end', () => handlers.done(Buffer.concat(chunks).toString('utf8')));
}
