// Operations commands: `migrate` (schema upgrades), `export` and `import` (backup, restore, and
// moving a registry between backends). Their code loads only when one of them runs.

import { Option, type Command } from 'commander';

interface CommonOptions {
  config?: string;
  dataDir?: string;
}

async function configFrom(options: CommonOptions) {
  const { loadConfig } = await import('../src/config/load.js');
  return loadConfig({ file: options.config, env: process.env, flags: { 'storage.data_dir': options.dataDir } });
}

function withCommonOptions(command: Command): Command {
  return command
    .addOption(new Option('-c, --config <file>', 'TOML configuration file').env('CRATEKEEPER_CONFIG'))
    .option('--data-dir <dir>', 'folder for the database and crate files (storage.data_dir)');
}

export function registerOpsCommands(program: Command): void {
  withCommonOptions(program.command('migrate').description("apply the database's pending schema migrations (back up first)")).action(
    async (options: CommonOptions) => {
      const { migrateDatabase } = await import('../src/ops/migrate.js');
      const state = await migrateDatabase(await configFrom(options));
      console.log(`database schema is current: migrations ${state.applied.join(', ')}`);
    },
  );
}
