#!/usr/bin/env node
// The `cratekeeper` command: `serve`, and the user and token commands that work on the same data
// folder (also while the server runs).

import { Command, Option } from 'commander';
import { loadConfig, ConfigError } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { RegistryError } from '../src/domain/errors.js';
import { openRegistry, type Registry } from '../src/registry.js';
import { isClusterWorker, startCluster, startClusterWorker } from '../src/cluster.js';
import { startServer } from '../src/server.js';
import { registerClientCommands } from './client-commands.js';

interface CommonOptions {
  config?: string;
  dataDir?: string;
}

function withCommonOptions(command: Command): Command {
  return command
    .addOption(new Option('-c, --config <file>', 'TOML configuration file').env('CRATEKEEPER_CONFIG'))
    .option('--data-dir <dir>', 'folder for the database and crate files (storage.data_dir)');
}

function configFrom(options: CommonOptions, flags: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    file: options.config,
    env: process.env,
    flags: { 'storage.data_dir': options.dataDir, ...flags },
  });
}

/** Runs a command on an opened registry and reports errors as one line on stderr. */
async function withRegistry(options: CommonOptions, action: (registry: Registry) => Promise<void>): Promise<void> {
  const registry = await openRegistry(configFrom(options));
  try {
    await action(registry);
  } finally {
    await registry.close();
  }
}

const program = new Command('cratekeeper')
  .description('A private Cargo registry in which every request is authenticated')
  .showHelpAfterError();

withCommonOptions(program.command('serve').description('run the registry server'))
  .option('--host <host>', 'address to listen on (server.host)')
  .option('--port <port>', 'port to listen on; 0 picks a free one (server.port)')
  .option('--public-url <url>', 'base URL written into config.json (server.public_url)')
  .option('--tls-cert <file>', 'PEM certificate chain; serves HTTPS with HTTP/2 (server.tls_cert)')
  .option('--tls-key <file>', 'PEM private key (server.tls_key)')
  .option('--workers <n>', 'serving processes, or "auto" for one per core (server.workers)')
  .action(async (options: CommonOptions & { host?: string; port?: string; publicUrl?: string; tlsCert?: string; tlsKey?: string; workers?: string }) => {
    const config = configFrom(options, {
      'server.host': options.host,
      'server.port': options.port,
      'server.public_url': options.publicUrl,
      'server.tls_cert': options.tlsCert,
      'server.tls_key': options.tlsKey,
      'server.workers': options.workers,
    });
    const server = isClusterWorker()
      ? await startClusterWorker(config, process.env)
      : config.server.workers > 1
        ? await startCluster(config, process.env)
        : await startServer(config, { env: process.env, bootstrap: true });
    if (!isClusterWorker()) {
      // The token line comes first, so that a script that waits for the URL line has both.
      if (server.firstToken !== undefined) {
        console.log(`created user admin; its first token (shown only this once): ${server.firstToken}`);
      }
      console.log(`cratekeeper listening on ${server.url}`);
    }
    // Repeated signals (orchestrators resend them) join the shutdown already under way.
    const shutdown = () => {
      server.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(error);
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
  });

const user = program.command('user').description('manage users');
withCommonOptions(user.command('add <name>').description('create a user'))
  .option('--admin', 'make the user an administrator')
  .action(async (name: string, options: CommonOptions & { admin?: boolean }) => {
    await withRegistry(options, async (registry) => {
      const created = await registry.accounts.addUser(name, options.admin === true);
      console.log(`created user ${created.login}${created.isAdmin ? ' (admin)' : ''}`);
    });
  });

const token = program.command('token').description('manage API tokens');
withCommonOptions(token.command('create').description('create a token and print it (only this once)'))
  .requiredOption('--user <name>', 'the user the token speaks for')
  .option('--name <label>', 'a label to recognise the token by', 'cli')
  .option('--expires-in-days <days>', 'make the token expire after this many days')
  .action(async (options: CommonOptions & { user: string; name: string; expiresInDays?: string }) => {
    let expiresAt: Date | null = null;
    if (options.expiresInDays !== undefined) {
      const days = Number(options.expiresInDays);
      if (!Number.isFinite(days) || days <= 0) throw new ConfigError([`--expires-in-days: expected a positive number of days`]);
      expiresAt = new Date(Date.now() + days * 86_400_000);
    }
    await withRegistry(options, async (registry) => {
      const { token: secret } = await registry.accounts.createToken(options.user, options.name, expiresAt);
      console.log(secret);
    });
  });

withCommonOptions(token.command('list').description("list a user's tokens (never their secrets)"))
  .requiredOption('--user <name>', 'whose tokens')
  .action(async (options: CommonOptions & { user: string }) => {
    await withRegistry(options, async (registry) => {
      const tokens = await registry.accounts.listTokens(options.user);
      console.log(['ID', 'NAME', 'CREATED', 'LAST USED', 'EXPIRES', 'STATUS'].join('\t'));
      for (const t of tokens) {
        const status = t.revokedAt ? `revoked ${t.revokedAt}` : t.expiresAt && Date.parse(t.expiresAt) <= Date.now() ? 'expired' : 'active';
        console.log([t.id, t.name, t.createdAt, t.lastUsedAt ?? 'never', t.expiresAt ?? 'never', status].join('\t'));
      }
    });
  });

withCommonOptions(token.command('revoke <id>').description('revoke a token by its id'))
  .action(async (id: string, options: CommonOptions) => {
    if (!/^\d+$/.test(id)) throw new ConfigError([`token id must be a number, got \`${id}\``]);
    await withRegistry(options, async (registry) => {
      await registry.accounts.revokeToken(Number(id));
      console.log(`revoked token ${id}`);
    });
  });

registerClientCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(`cratekeeper: ${error.message}`);
  else if (error instanceof RegistryError) console.error(`cratekeeper: ${error.message}`);
  else console.error('cratekeeper:', error);
  process.exit(2);
});
