// Runs a host's token command (for registries that issue short-lived tokens, such as AWS
// CodeArtifact) and reads the token and its expiry from what it prints: either a bare token, or a
// JSON object such as `{"token": "...", "expiration": "2026-01-01T12:00:00Z"}` (also accepted:
// authorizationToken / access_token, and expires_at / expiresAt as ISO time or Unix seconds, or
// expires_in seconds). The token is never logged; a failure shows the command's stderr.

import { execFile } from 'node:child_process';

export interface IssuedToken {
  token: string;
  /** Unix seconds; undefined when the command did not say. */
  expiresAt: number | undefined;
}

export class TokenCommandError extends Error {
  readonly code = 'TOKEN_COMMAND';
}

export type TokenCommandRunner = (command: string[], env: NodeJS.ProcessEnv) => Promise<IssuedToken>;

function parseExpiry(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.floor(value > 1e12 ? value / 1000 : value);
  if (typeof value === 'string' && value.trim() !== '') {
    if (/^\d+$/.test(value.trim())) return parseExpiry(Number(value));
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return Math.floor(ms / 1000);
  }
  return undefined;
}

/** Reads a command's output; throws TokenCommandError when it holds no token. */
export function parseTokenOutput(output: string, now = Date.now() / 1000): IssuedToken {
  const text = output.trim();
  if (text === '') throw new TokenCommandError('the token command printed nothing');
  if (text.startsWith('{')) {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new TokenCommandError('the token command printed something that looks like JSON but is not');
    }
    const token = json.token ?? json.authorizationToken ?? json.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new TokenCommandError('the token command printed JSON without a "token" (or "authorizationToken" / "access_token") string');
    }
    let expiresAt = parseExpiry(json.expiration ?? json.expires_at ?? json.expiresAt);
    if (expiresAt === undefined && typeof json.expires_in === 'number') expiresAt = Math.floor(now + json.expires_in);
    return { token, expiresAt };
  }
  if (text.includes('\n')) throw new TokenCommandError('the token command printed several lines; print only the token, or a JSON object');
  return { token: text, expiresAt: undefined };
}

/** Runs the command without a shell; its stdin is empty and its stderr is kept for error messages. */
export const runTokenCommand: TokenCommandRunner = (command, env) =>
  new Promise((resolve, reject) => {
    const [file, ...args] = command;
    const child = execFile(file!, args, { env, timeout: 60_000, maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const detail = stderr.trim().split('\n').slice(-5).join('\n');
        reject(
          new TokenCommandError(
            `token command \`${file}\` failed (${error.code ?? error.signal ?? error.message})${detail ? `: ${detail}` : ''}`,
          ),
        );
        return;
      }
      try {
        resolve(parseTokenOutput(stdout));
      } catch (e) {
        reject(e instanceof TokenCommandError ? new TokenCommandError(`token command \`${file}\`: ${e.message}`) : e);
      }
    });
    child.stdin?.end();
  });
