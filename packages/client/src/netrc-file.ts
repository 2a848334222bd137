// Finds, reads and writes the user's .netrc. The file comes from an explicit path (--netrc), then
// $NETRC, then ~/.netrc. Like Python's netrc module, a file that others could read (or that belongs to
// someone else) is refused with a message saying how to fix it, unless the caller allows it.

import { chmodSync, existsSync, lstatSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, basename } from 'node:path';
import { parseNetrc, type NetrcDocument } from './netrc-parse.js';

export class NetrcPermissionError extends Error {
  readonly code = 'NETRC_PERMISSIONS';
  constructor(message: string) {
    super(message);
    this.name = 'NetrcPermissionError';
  }
}

export interface NetrcLocation {
  explicit?: string | undefined;
  env?: NodeJS.ProcessEnv;
  home?: string;
}

/** The path of the .netrc to use: --netrc, then $NETRC, then ~/.netrc. */
export function netrcPath(location: NetrcLocation = {}): string {
  if (location.explicit) return location.explicit;
  const env = location.env ?? process.env;
  if (env.NETRC) return env.NETRC;
  return join(location.home ?? env.HOME ?? homedir(), '.netrc');
}

/** Throws NetrcPermissionError when the file is readable by group or others or owned by another user. */
export function checkNetrcPermissions(path: string): void {
  const stat = statSync(path);
  const mode = stat.mode & 0o777;
  if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) {
    throw new NetrcPermissionError(
      `${path} belongs to user id ${stat.uid}, not to you (${process.getuid()}); a credentials file must be yours ` +
        `(pass --allow-insecure-netrc to use it anyway)`,
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new NetrcPermissionError(
      `${path} can be read by group or others (mode ${mode.toString(8).padStart(4, '0')}); it holds passwords, so ` +
        `restrict it to its owner with \`chmod 600 ${path}\` (or pass --allow-insecure-netrc to use it anyway)`,
    );
  }
}

export interface ReadNetrcOptions {
  allowInsecure?: boolean;
}

/** Reads and parses the file; undefined when it does not exist. */
export function readNetrcFile(path: string, options: ReadNetrcOptions = {}): NetrcDocument | undefined {
  if (!existsSync(path)) return undefined;
  if (!options.allowInsecure) checkNetrcPermissions(path);
  return parseNetrc(readFileSync(path, 'utf8'), path);
}

/**
 * Replaces the file's content atomically (a temporary file beside it, then a rename), keeping its mode;
 * a new file gets mode 0600. A symbolic link is followed, so the file it points to is the one changed.
 */
export function writeNetrcFile(path: string, text: string): void {
  const target = existsSync(path) && lstatSync(path).isSymbolicLink() ? realpathSync(path) : path;
  const mode = existsSync(target) ? statSync(target).mode & 0o777 : 0o600;
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  writeFileSync(temp, text, { mode: 0o600, flag: 'wx' });
  chmodSync(temp, mode);
  renameSync(temp, target);
}
