// What `serve` prints before its listening line, for the person who started it: on the first start
// the admin's token and the exact cargo setup for this registry, and when no administrator can sign
// in, the command that makes a way in. Plain text on stdout, so that it reads the same in a
// terminal and in a service's log.

import type { AdminLockout } from '../src/services/admin-access.js';

export interface StartupFacts {
  publicUrl: string;
  /** login.registry_name: the name the /me page uses too. */
  registryName: string;
  firstToken: string | undefined;
  adminLockout: AdminLockout | undefined;
  /** The flags that pick this registry's configuration (`--config FILE`, `--data-dir DIR`), for the commands shown. */
  selectFlags: string;
}

/** The sparse-index URL cargo needs, from the public base URL. */
export const sparseIndexUrl = (publicUrl: string) => `sparse+${publicUrl.replace(/\/+$/, '')}/index/`;

function firstStart(facts: StartupFacts, token: string): string[] {
  return [
    `created user admin; its first token (shown only this once): ${token}`,
    '',
    'To use this registry with cargo, add to ~/.cargo/config.toml:',
    '',
    `  [registries.${facts.registryName}]`,
    `  index = "${sparseIndexUrl(facts.publicUrl)}"`,
    '  credential-provider = "cargo:token"',
    '',
    'then log in (paste the token above when cargo asks):',
    '',
    `  cargo login --registry ${facts.registryName}`,
    '',
    `Sign in to the web pages at ${facts.publicUrl}/sign-in with the same token.`,
    '',
  ];
}

function lockedOut(facts: StartupFacts, lockout: AdminLockout): string[] {
  const flags = facts.selectFlags === '' ? '' : ` ${facts.selectFlags}`;
  const signIn = `then sign in at ${facts.publicUrl}/sign-in with the token it prints.`;
  if (lockout.admins.length === 0) {
    return [
      'warning: this registry has users but no administrator. Make one, with a token to sign in with:',
      '',
      `  cratekeeper user add NAME --admin${flags}`,
      `  cratekeeper token create --user NAME --name admin-sign-in${flags}`,
      '',
      signIn,
      '',
    ];
  }
  const admin = lockout.admins[0]!;
  return [
    `warning: no administrator can sign in (${lockout.admins.join(', ')}: no password, no OpenID identity, no token with every scope). Make a token to sign in with:`,
    '',
    `  cratekeeper token create --user ${admin} --name admin-sign-in${flags}`,
    '',
    `${signIn} Or set a password: cratekeeper user passwd ${admin}${flags}`,
    '',
  ];
}

/** The lines to print before the listening line (none on an ordinary start). */
export function startupMessages(facts: StartupFacts): string[] {
  if (facts.firstToken !== undefined) return firstStart(facts, facts.firstToken);
  if (facts.adminLockout !== undefined) return lockedOut(facts, facts.adminLockout);
  return [];
}

/** Shell-quotes a flag's value when it needs it. */
export function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
