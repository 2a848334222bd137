// For what a server does after it has answered (a log line through a pipe, a batched audit flush):
// retry a check until it passes instead of sleeping a fixed time, which is either slow everywhere
// or too short on a loaded CI machine.
import { setTimeout as sleep } from 'node:timers/promises';

/** Runs `check` until it stops throwing, then returns its value; after `timeoutMs` rethrows its last error. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      await sleep(intervalMs);
    }
  }
}
