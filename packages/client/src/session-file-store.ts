// Sessions in `${XDG_CONFIG_HOME:-~/.config}/cratekeeper/sessions.json`, for machines without a usable
// keyring. The folder is created with mode 0700 and the file with 0600; every write replaces the file
// atomically (a temporary file beside it, then a rename), so a crash or a concurrent reader never sees
// half a file. Like the .netrc, a file that group or others can read is refused with the fix.
// Writers of different registries are serialised by the caller's refresh lock (refresh-lock.ts).

import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isStoredSession, SessionStoreError, type SessionStore, type StoredSession } from './session-store.js';

interface SessionsFile {
  version: 1;
  sessions: Record<string, StoredSession>;
}

export class FileSessionStore implements SessionStore {
  readonly path: string;

  constructor(readonly dir: string) {
    this.path = join(dir, 'sessions.json');
  }

  get description(): string {
    return this.path;
  }

  private load(): SessionsFile {
    if (!existsSync(this.path)) return { version: 1, sessions: {} };
    const mode = statSync(this.path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new SessionStoreError(
        `${this.path} can be read by group or others (mode ${mode.toString(8).padStart(4, '0')}); it holds your registry sessions, ` +
          `so restrict it with \`chmod 600 ${this.path}\` (or delete it and sign in again)`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (error) {
      throw new SessionStoreError(`${this.path} is not valid JSON (${(error as Error).message}); delete it and sign in again`);
    }
    const sessions = (parsed as Partial<SessionsFile> | null)?.sessions;
    if (typeof sessions !== 'object' || sessions === null) {
      throw new SessionStoreError(`${this.path} has no "sessions" object; delete it and sign in again`);
    }
    return { version: 1, sessions: Object.fromEntries(Object.entries(sessions).filter(([, s]) => isStoredSession(s))) };
  }

  private save(file: SessionsFile): void {
    if (!existsSync(this.dir)) mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const temp = join(this.dir, `.sessions.json.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
    writeFileSync(temp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(temp, 0o600);
    renameSync(temp, this.path);
  }

  async read(indexUrl: string): Promise<StoredSession | undefined> {
    return this.load().sessions[indexUrl];
  }

  async write(indexUrl: string, session: StoredSession): Promise<void> {
    const file = this.load();
    file.sessions[indexUrl] = session;
    this.save(file);
  }

  async delete(indexUrl: string): Promise<boolean> {
    const file = this.load();
    if (file.sessions[indexUrl] === undefined) return false;
    delete file.sessions[indexUrl];
    this.save(file);
    return true;
  }
}
