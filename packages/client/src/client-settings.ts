// The options every client command shares (--netrc, --auth-config, --allow-insecure-netrc, --login),
// read from the command line or from the `args` cargo forwards to its credential provider, and the
// loading of the two files they point at.

import { authConfigPath, loadAuthConfig, type AuthConfig } from './auth-config.js';
import { netrcPath, readNetrcFile } from './netrc-file.js';
import type { NetrcDocument } from './netrc-parse.js';

export interface ClientArgs {
  netrc?: string | undefined;
  authConfig?: string | undefined;
  allowInsecureNetrc?: boolean | undefined;
  /** The login written into a new .netrc entry by `cargo login` (default `cargo`). */
  login?: string | undefined;
}

export class ClientArgsError extends Error {
  readonly code = 'CLIENT_ARGS';
}

const WITH_VALUE: Record<string, 'netrc' | 'authConfig' | 'login'> = {
  '--netrc': 'netrc',
  '--auth-config': 'authConfig',
  '--login': 'login',
};

/**
 * Parses provider arguments over `base`. A leading `credential` is skipped: cargo forwards the words
 * after the program in `credential-provider = ["cratekeeper", "credential", ...]`.
 */
export function parseClientArgs(args: string[], base: ClientArgs = {}): ClientArgs {
  const result: ClientArgs = { ...base };
  const rest = args[0] === 'credential' ? args.slice(1) : args;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (name === '--allow-insecure-netrc' && eq < 0) {
      result.allowInsecureNetrc = true;
    } else if (name === '--cargo-plugin' && eq < 0) {
      continue;
    } else if (name in WITH_VALUE) {
      const value = eq > 0 ? arg.slice(eq + 1) : rest[++i];
      if (value === undefined || value === '') throw new ClientArgsError(`\`${name}\` needs a value`);
      result[WITH_VALUE[name]!] = value;
    } else {
      throw new ClientArgsError(
        `unknown argument \`${arg}\` for the credential provider (known: --netrc FILE, --auth-config FILE, --allow-insecure-netrc, --login NAME)`,
      );
    }
  }
  return result;
}

export interface ClientSettings {
  config: AuthConfig;
  netrc: NetrcDocument | undefined;
  netrcPath: string;
}

/** Loads the auth file (required only when named explicitly) and the .netrc (absent is fine). */
export function loadClientSettings(args: ClientArgs, env: NodeJS.ProcessEnv): ClientSettings {
  const config = loadAuthConfig(authConfigPath(args.authConfig, env), args.authConfig !== undefined);
  const path = netrcPath({ explicit: args.netrc, env });
  const netrc = readNetrcFile(path, { allowInsecure: args.allowInsecureNetrc === true || config.allowInsecureNetrc });
  return { config, netrc, netrcPath: path };
}
