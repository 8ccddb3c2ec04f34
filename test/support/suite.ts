// A fixture that lives as long as a suite: started before its first test, stopped after its last.
import { after, before } from 'node:test';

/**
 * Starts `start()` before the tests of the enclosing describe (or file) and stops it after them, once
 * `beforeStop` has cleaned up what the suite started on it (processes, managers). The returned object
 * stands for the started fixture: its fields read through to it, and reading one before it started throws.
 */
export function suiteFixture<T extends { stop(): Promise<unknown> }>(start: () => Promise<T>, beforeStop?: () => Promise<unknown> | void): T {
  let started: T | undefined;
  before(async () => {
    started = await start();
  });
  after(async () => {
    try {
      await beforeStop?.();
    } finally {
      await started?.stop();
    }
  });
  return new Proxy({} as T, {
    get(_target, key) {
      if (!started) throw new Error(`the suite's fixture is not started (read of ${String(key)})`);
      const value: unknown = Reflect.get(started, key);
      return typeof value === 'function' ? value.bind(started) : value;
    },
  });
}
