// Sessions in the OS keyring, through the system's own command-line tools so that no native module
// is needed: `secret-tool` (libsecret, the freedesktop Secret Service: GNOME Keyring, KWallet) on
// Linux, `security` (the login keychain) on macOS. Each registry is one item, named by the service
// `cratekeeper-session` and the index URL; its secret is the session as JSON. Secrets travel on the
// tools' stdin, never on their command line (which other users can see in `ps`).

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { isStoredSession, SessionStoreError, type SessionStore, type StoredSession } from './session-store.js';

const SERVICE = 'cratekeeper-session';

interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

function runTool(file: string, args: string[], input: string, env: NodeJS.ProcessEnv): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { env, timeout: 30_000, maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        reject(new SessionStoreError(`\`${file}\` could not run (${error.code ?? error.signal ?? error.message})`));
        return;
      }
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

/** The path of `name` on $PATH, if any. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function parseSecret(text: string, where: string): StoredSession | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (isStoredSession(value)) return value;
  } catch {
    // reported below
  }
  throw new SessionStoreError(`the keyring item for ${where} is not a cratekeeper session; sign in again to replace it`);
}

function failure(tool: string, action: string, result: ToolResult): SessionStoreError {
  const detail = result.stderr.trim().split('\n').slice(-3).join(' ');
  return new SessionStoreError(
    `${tool} could not ${action} (exit status ${result.code}${detail ? `: ${detail}` : ''}); ` +
      'set CRATEKEEPER_SESSION_STORE=file to keep sessions in a file instead',
  );
}

/** libsecret's `secret-tool`: attributes `service` and `index`, secret on stdin. */
export class SecretToolSessionStore implements SessionStore {
  readonly description = 'the Secret Service keyring (secret-tool)';

  constructor(
    private readonly tool: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  async read(indexUrl: string): Promise<StoredSession | undefined> {
    const result = await runTool(this.tool, ['lookup', 'service', SERVICE, 'index', indexUrl], '', this.env);
    // secret-tool exits 1 with nothing on stdout and stderr when no item matches.
    if (result.code !== 0 && result.stdout === '' && result.stderr.trim() === '') return undefined;
    if (result.code !== 0) throw failure('secret-tool', 'read the keyring', result);
    return parseSecret(result.stdout, indexUrl);
  }

  async write(indexUrl: string, session: StoredSession): Promise<void> {
    const args = ['store', `--label=cratekeeper session for ${indexUrl}`, 'service', SERVICE, 'index', indexUrl];
    const result = await runTool(this.tool, args, JSON.stringify(session), this.env);
    if (result.code !== 0) throw failure('secret-tool', 'write to the keyring', result);
  }

  async delete(indexUrl: string): Promise<boolean> {
    const existed = (await this.read(indexUrl)) !== undefined;
    const result = await runTool(this.tool, ['clear', 'service', SERVICE, 'index', indexUrl], '', this.env);
    if (result.code !== 0 && existed) throw failure('secret-tool', 'delete from the keyring', result);
    return existed;
  }
}

/** macOS `security`: a generic password with service `cratekeeper-session` and the index URL as account. */
export class KeychainSessionStore implements SessionStore {
  readonly description = 'the macOS keychain';

  constructor(
    private readonly tool: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  async read(indexUrl: string): Promise<StoredSession | undefined> {
    const result = await runTool(this.tool, ['find-generic-password', '-s', SERVICE, '-a', indexUrl, '-w'], '', this.env);
    if (result.code === 44) return undefined; // errSecItemNotFound
    if (result.code !== 0) throw failure('security', 'read the keychain', result);
    return parseSecret(result.stdout.trim(), indexUrl);
  }

  async write(indexUrl: string, session: StoredSession): Promise<void> {
    // `security -i` reads commands from stdin, which keeps the secret off the command line.
    const quote = (s: string) => `"${s.replace(/(["\\])/g, '\\$1')}"`;
    const command = `add-generic-password -U -s ${quote(SERVICE)} -a ${quote(indexUrl)} -w ${quote(JSON.stringify(session))}\n`;
    const result = await runTool(this.tool, ['-i'], command, this.env);
    if (result.code !== 0 || /error/i.test(result.stderr)) throw failure('security', 'write to the keychain', result);
  }

  async delete(indexUrl: string): Promise<boolean> {
    const result = await runTool(this.tool, ['delete-generic-password', '-s', SERVICE, '-a', indexUrl], '', this.env);
    if (result.code === 44) return false;
    if (result.code !== 0) throw failure('security', 'delete from the keychain', result);
    return true;
  }
}
