#!/usr/bin/env node
// The `cratekeeper` command. The server's commands (`serve`, `user`, `token`) work on one data
// folder (also while the server runs); their code is loaded only when one of them runs, so that the
// client toolkit's commands start fast.

import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { helpExamples, registerClientCommands } from '@cratekeeper/client/commands';
import { registerOpsCommands } from './ops-commands.js';
import { registerMirrorCommands } from './mirror-commands.js';
import { registerOpenApiCommand } from './openapi-command.js';
import { registerAccountCommands } from './account-commands.js';
import { registerPolicyCommands } from './policy-commands.js';
import type { AuditOptions, CommonOptions, CreateTokenOptions, ServeOptions } from './server-actions.js';

const serverActions = () => import('./server-actions.js');

/** The version of the installed package: its package.json, two folders up from dist/cli/main.js. */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

/** The text every command's --help ends with: one or more example command lines. */

function withCommonOptions(command: Command): Command {
  return command
    .addOption(new Option('-c, --config <file>', 'TOML configuration file').env('CRATEKEEPER_CONFIG'))
    .option('--data-dir <dir>', 'folder for the database and crate files (storage.data_dir)');
}

const program = new Command('cratekeeper')
  .description('A private Cargo registry in which every request is authenticated')
  .version(packageVersion(), '-V, --version', 'print the version of cratekeeper')
  .showHelpAfterError()
  .addHelpText('after', helpExamples('cratekeeper serve --data-dir /var/lib/cratekeeper', 'cratekeeper user add alice --help'));

withCommonOptions(program.command('serve').description('run the registry server'))
  .option('--host <host>', 'address to listen on (server.host)')
  .option('--port <port>', 'port to listen on; 0 picks a free one (server.port)')
  .option('--public-url <url>', 'base URL written into config.json (server.public_url)')
  .option('--tls-cert <file>', 'PEM certificate chain; serves HTTPS with HTTP/2 (server.tls_cert)')
  .option('--tls-key <file>', 'PEM private key (server.tls_key)')
  .option('--workers <n>', 'serving processes, or "auto" for one per core (server.workers)')
  .option('--migrate', 'apply pending schema migrations before serving (else serve refuses a schema that is behind)')
  .addHelpText(
    'after',
    helpExamples('cratekeeper serve --host 0.0.0.0 --port 8000 --public-url https://crates.example.com --data-dir /var/lib/cratekeeper'),
  )
  .action(async (options: ServeOptions) => (await serverActions()).serve(options));

const user = program
  .command('user')
  .description('manage users')
  .addHelpText('after', helpExamples('cratekeeper user list --data-dir /var/lib/cratekeeper'));
withCommonOptions(user.command('add <name>').description('create a user'))
  .option('--admin', 'make the user an administrator')
  .addHelpText('after', helpExamples('cratekeeper user add alice --admin --data-dir /var/lib/cratekeeper'))
  .action(async (name: string, options: CommonOptions & { admin?: boolean }) => (await serverActions()).addUser(name, options));

withCommonOptions(user.command('passwd <name>').description('set a local password (read from stdin when it is not a terminal)'))
  .option('--remove', 'remove the password (the user can then sign in only through OIDC or with tokens)')
  .addHelpText(
    'after',
    helpExamples(
      'cratekeeper user passwd alice --data-dir /var/lib/cratekeeper',
      'printf \'%s\\n\' "$PASSWORD" | cratekeeper user passwd alice',
    ),
  )
  .action(async (name: string, options: CommonOptions & { remove?: boolean }) => (await serverActions()).setPassword(name, options));

registerAccountCommands(user, withCommonOptions);

withCommonOptions(user.command('list').description('list users: name, admin, origin (local or OpenID), created, active tokens'))
  .addHelpText('after', helpExamples('cratekeeper user list --config /etc/cratekeeper.toml'))
  .action(async (options: CommonOptions) => (await serverActions()).listUsers(options));

const token = program
  .command('token')
  .description('manage API tokens')
  .addHelpText('after', helpExamples('cratekeeper token list --all --data-dir /var/lib/cratekeeper'));
withCommonOptions(token.command('create').description('create a token and print it (only this once)'))
  .requiredOption('--user <name>', 'the user the token speaks for')
  .option('--name <label>', 'a label to recognise the token by', 'cli')
  .option('--expires-in-days <days>', 'make the token expire after this many days')
  .option('--scopes <list>', 'comma-separated: read, publish-new, publish-update, yank, change-owners (default: all)')
  .option('--crates <patterns>', 'comma-separated crate names or prefixes ending in * it may change (default: all)')
  .option('--service-account', 'a deliberate long-lived token (CI): outside auth.max_token_lifetime')
  .addHelpText(
    'after',
    helpExamples('cratekeeper token create --user ci --name release --scopes read,publish-update --crates "acme-*" --expires-in-days 90'),
  )
  .action(async (options: CreateTokenOptions) => (await serverActions()).createToken(options));

withCommonOptions(token.command('list').description("list a user's tokens, or every user's (never their secrets)"))
  .option('--user <name>', 'whose tokens')
  .option('--all', "every user's tokens, with a USER column")
  .addHelpText('after', helpExamples('cratekeeper token list --user alice', 'cratekeeper token list --all --data-dir /var/lib/cratekeeper'))
  .action(async (options: CommonOptions & { user?: string; all?: boolean }) => (await serverActions()).listTokens(options));

withCommonOptions(token.command('revoke <id-or-name>').description('revoke a token by its id or its name, as `token list` shows them'))
  .option('--user <name>', "look for the name among this user's tokens only")
  .addHelpText('after', helpExamples('cratekeeper token revoke 42', 'cratekeeper token revoke release --user ci'))
  .action(async (reference: string, options: CommonOptions & { user?: string }) => (await serverActions()).revokeToken(reference, options));

withCommonOptions(program.command('audit').description('show the audit log, newest first'))
  .option('--crate <name>', 'only events about this crate')
  .option('--user <login>', 'only events by this user')
  .option('--action <action>', 'only this action (download, publish, yank, token-create, access-refused, ...)')
  .option('--since <when>', 'ISO 8601 date, or a duration such as 7d, 12h, 30m')
  .option('--until <when>', 'ISO 8601 date, or a duration')
  .option('--limit <n>', 'at most this many events (default 100, at most 1000)')
  .option('--format <format>', 'table (default), csv or json')
  .addHelpText('after', helpExamples('cratekeeper audit --crate serde-internal --action download --since 7d --format csv > downloads.csv'))
  .action(async (options: AuditOptions) => (await serverActions()).showAudit(options));

const group = program
  .command('group')
  .description('manage local groups (for access rules)')
  .addHelpText('after', helpExamples('cratekeeper group add-member core alice'));
withCommonOptions(group.command('add-member <group> <user>').description('add a user to a group'))
  .addHelpText('after', helpExamples('cratekeeper group add-member core alice --data-dir /var/lib/cratekeeper'))
  .action(async (name: string, login: string, options: CommonOptions) => (await serverActions()).changeGroup('add', name, login, options));
withCommonOptions(group.command('remove-member <group> <user>').description('remove a user from a group'))
  .addHelpText('after', helpExamples('cratekeeper group remove-member core alice --data-dir /var/lib/cratekeeper'))
  .action(async (name: string, login: string, options: CommonOptions) =>
    (await serverActions()).changeGroup('remove', name, login, options),
  );
withCommonOptions(group.command('list <group>').description("list a group's members"))
  .addHelpText('after', helpExamples('cratekeeper group list core --data-dir /var/lib/cratekeeper'))
  .action(async (name: string, options: CommonOptions) => (await serverActions()).listGroup(name, options));

registerMirrorCommands(program);
registerOpsCommands(program);
registerOpenApiCommand(program);
registerClientCommands(program);
registerPolicyCommands(program, withCommonOptions);

// Configuration and registry errors are the user's to fix: one line, no stack.
const USER_ERRORS = new Set(['ConfigError', 'RegistryError']);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof Error && USER_ERRORS.has(error.name)) console.error(`cratekeeper: ${error.message}`);
  else console.error('cratekeeper:', error);
  process.exit(2);
});
