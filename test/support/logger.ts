// The one logger of the tests: silent, unless KMSSTACK_TEST_LOGS is set (then debug lines on stdout).
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/runtime/logger.ts';

export function testLogger(): Logger {
  if (process.env.KMSSTACK_TEST_LOGS) return createLogger({ level: 'debug' });
  return createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
}
