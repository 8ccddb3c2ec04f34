// Runs a manager until SIGTERM/SIGINT (graceful stop, exit code 0), a lost lease or a failed start
// (exit code 1). A second signal exits at once.
import type { Logger } from './logger.ts';
import type { Manager } from './manager.ts';

export function runUntilSignalled(manager: Manager, logger: Logger): Promise<number> {
  return new Promise((resolve) => {
    let exiting = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (exiting) {
        logger.warn({ signal }, 'second signal: exiting now');
        resolve(1);
        return;
      }
      exiting = true;
      logger.info({ signal }, 'shutting down: finishing in-flight reconciles');
      manager.stop().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    manager.onLeadershipLost(() => {
      // As controller-runtime: a process that lost the lease must not keep acting; exit and be restarted.
      exiting = true;
      void manager.stop().finally(() => resolve(1));
    });
    manager.start().then(
      () => logger.info({ state: manager.state }, 'operator started'),
      (err: unknown) => {
        logger.fatal({ err }, 'start failed');
        exiting = true;
        void manager.stop().finally(() => resolve(1));
      },
    );
  });
}

/** Exits with `code` once pino had a moment to flush, even if a library left a handle open. */
export function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 200).unref();
}
