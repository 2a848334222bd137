#!/usr/bin/env node
// The `cratekeeper` command. The server's commands (`serve`, `user`, `token`) work on one data
// folder (also while the server runs); their code is loaded only when one of them runs, so that the
// client toolkit's commands start fast.

import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { registerClientCommands } from '@cratekeeper/client/commands';
import { registerOpsCommands } from './ops-commands.js';
import { registerMirrorCommands } from './mirror-commands.js';
import { registerAccountCommands } from './account-commands.js';
import type { AuditOptions, CommonOptions, CreateTokenOptions, ServeOptions } from './server-actions.js';

const serverActions = () => import('./server-actions.js');

/** The version of the installed package: its package.json, two folders up from dist/cli/main.js. */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

function withCommonOptions(command: Command): Command {
  return command
    .addOption(new Option('-c, --config <file>', 'TOML configuration file').env('CRATEKEEPER_CONFIG'))
    .option('--data-dir <dir>', 'folder for the database and crate files (storage.data_dir)');
}

const program = new Command('cratekeeper')
  .description('A private Cargo registry in which every request is authenticated')
  .version(packageVersion(), '-V, --version', 'print the version of cratekeeper')
  .showHelpAfterError();

withCommonOptions(program.command('serve').description('run the registry server'))
  .option('--host <host>', 'address to listen on (server.host)')
  .option('--port <port>', 'port to listen on; 0 picks a free one (server.port)')
  .option('--public-url <url>', 'base URL written into config.json (server.public_url)')
  .option('--tls-cert <file>', 'PEM certificate chain; serves HTTPS with HTTP/2 (server.tls_cert)')
  .option('--tls-key <file>', 'PEM private key (server.tls_key)')
  .option('--workers <n>', 'serving processes, or "auto" for one per core (server.workers)')
  .option('--migrate', 'apply pending schema migrations before serving (else serve refuses a schema that is behind)')
  .action(async (options: ServeOptions) => (await serverActions()).serve(options));

const user = program.command('user').description('manage users');
withCommonOptions(user.command('add <name>').description('create a user'))
  .option('--admin', 'make the user an administrator')
  .action(async (name: string, options: CommonOptions & { admin?: boolean }) => (await serverActions()).addUser(name, options));

withCommonOptions(user.command('passwd <name>').description('set a local password (read from stdin when it is not a terminal)'))
  .option('--remove', 'remove the password (the user can then sign in only through OIDC or with tokens)')
  .action(async (name: string, options: CommonOptions & { remove?: boolean }) => (await serverActions()).setPassword(name, options));

registerAccountCommands(user, withCommonOptions);

const token = program.command('token').description('manage API tokens');
withCommonOptions(token.command('create').description('create a token and print it (only this once)'))
  .requiredOption('--user <name>', 'the user the token speaks for')
  .option('--name <label>', 'a label to recognise the token by', 'cli')
  .option('--expires-in-days <days>', 'make the token expire after this many days')
  .option('--scopes <list>', 'comma-separated: read, publish-new, publish-update, yank, change-owners (default: all)')
  .option('--crates <patterns>', 'comma-separated crate names or prefixes ending in * it may change (default: all)')
  .option('--service-account', 'a deliberate long-lived token (CI): outside auth.max_token_lifetime')
  .action(async (options: CreateTokenOptions) => (await serverActions()).createToken(options));

withCommonOptions(token.command('list').description("list a user's tokens (never their secrets)"))
  .requiredOption('--user <name>', 'whose tokens')
  .action(async (options: CommonOptions & { user: string }) => (await serverActions()).listTokens(options));

withCommonOptions(token.command('revoke <id>').description('revoke a token by its id')).action(async (id: string, options: CommonOptions) =>
  (await serverActions()).revokeToken(id, options),
);

withCommonOptions(program.command('audit').description('show the audit log, newest first'))
  .option('--crate <name>', 'only events about this crate')
  .option('--user <login>', 'only events by this user')
  .option('--action <action>', 'only this action (download, publish, yank, token-create, access-refused, ...)')
  .option('--since <when>', 'ISO 8601 date, or a duration such as 7d, 12h, 30m')
  .option('--until <when>', 'ISO 8601 date, or a duration')
  .option('--limit <n>', 'at most this many events (default 100, at most 1000)')
  .option('--format <format>', 'table (default), csv or json')
  .action(async (options: AuditOptions) => (await serverActions()).showAudit(options));

const group = program.command('group').description('manage local groups (for access rules)');
withCommonOptions(group.command('add-member <group> <user>').description('add a user to a group')).action(
  async (name: string, login: string, options: CommonOptions) => (await serverActions()).changeGroup('add', name, login, options),
);
withCommonOptions(group.command('remove-member <group> <user>').description('remove a user from a group')).action(
  async (name: string, login: string, options: CommonOptions) => (await serverActions()).changeGroup('remove', name, login, options),
);
withCommonOptions(group.command('list <group>').description("list a group's members")).action(
  async (name: string, options: CommonOptions) => (await serverActions()).listGroup(name, options),
);

registerMirrorCommands(program);
registerOpsCommands(program);
registerClientCommands(program);

// Configuration and registry errors are the user's to fix: one line, no stack.
const USER_ERRORS = new Set(['ConfigError', 'RegistryError']);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof Error && USER_ERRORS.has(error.name)) console.error(`cratekeeper: ${error.message}`);
  else console.error('cratekeeper:', error);
  process.exit(2);
});
