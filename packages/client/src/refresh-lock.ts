// A lock file around refreshing a session. A refresh token is good for one use (the server rotates it
// and treats a second use as a stolen token, signing the device out), and cargo may run several
// processes at once (two `cargo build`s in two terminals, an editor's background check): without the
// lock both would spend the same refresh token. Whoever gets the lock refreshes; the others wait, then
// read the store again and find the new token.
//
// The lock is a file created with O_EXCL holding the owner's pid. A lock whose process is gone, or
// that is older than `staleAfterMs` (a hung refresh), is taken over.

import { mkdirSync, openSync, closeSync, readFileSync, rmSync, statSync, writeSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export class RefreshLockError extends Error {
  readonly code = 'REFRESH_LOCK';
}

export interface RefreshLockOptions {
  /** How long to wait for another process before giving up. */
  timeoutMs?: number;
  /** Age after which a held lock is presumed abandoned. */
  staleAfterMs?: number;
  /** Called once when the lock is held by someone else and this caller starts waiting (tests). */
  onContended?: () => void;
}

function ownerIsGone(path: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(path, 'utf8').trim());
  } catch {
    return false; // removed meanwhile: the next attempt will tell
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function isStale(path: string, staleAfterMs: number): boolean {
  try {
    return ownerIsGone(path) || Date.now() - statSync(path).mtimeMs > staleAfterMs;
  } catch {
    return false;
  }
}

/** Runs `action` while holding the lock file at `path`. */
export async function withRefreshLock<T>(path: string, action: () => Promise<T>, options: RefreshLockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const staleAfterMs = options.staleAfterMs ?? 120_000;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const deadline = Date.now() + timeoutMs;
  let contended = false;
  for (;;) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (isStale(path, staleAfterMs)) {
        // Move it aside first: of several waiters that saw it stale, only one rename succeeds.
        try {
          renameSync(path, `${path}.stale.${process.pid}`);
          rmSync(`${path}.stale.${process.pid}`, { force: true });
        } catch {
          // another waiter took it over first
        }
        continue;
      }
      if (!contended) {
        contended = true;
        options.onContended?.();
      }
      if (Date.now() >= deadline) {
        throw new RefreshLockError(
          `another cratekeeper process has been refreshing a session for more than ${Math.round(timeoutMs / 1000)} s (lock ${path}); ` +
            'if none is running, delete that file',
        );
      }
      await sleep(50);
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    try {
      return await action();
    } finally {
      rmSync(path, { force: true });
    }
  }
}
