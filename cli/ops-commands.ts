// Operations commands: `migrate` (schema upgrades), `export` and `import` (backup, restore, and
// moving a registry between backends). Their code loads only when one of them runs. Each shows its
// progress on stderr (a bar on a terminal, periodic lines otherwise); the result goes to stdout.

import { helpExamples } from '@cratekeeper/client/commands';
import { Option, type Command } from 'commander';

interface CommonOptions {
  config?: string;
  dataDir?: string;
}

async function configFrom(options: CommonOptions) {
  const { loadConfig } = await import('../src/config/load.js');
  return loadConfig({ file: options.config, env: process.env, flags: { 'storage.data_dir': options.dataDir } });
}

async function progressOnStderr() {
  const { progressBars } = await import('../src/lib/progress-bar.js');
  return progressBars();
}

function withCommonOptions(command: Command): Command {
  return command
    .addOption(new Option('-c, --config <file>', 'TOML configuration file').env('CRATEKEEPER_CONFIG'))
    .option('--data-dir <dir>', 'folder for the database and crate files (storage.data_dir)');
}

export function registerOpsCommands(program: Command): void {
  withCommonOptions(program.command('migrate').description("apply the database's pending schema migrations (back up first)"))
    .addHelpText('after', helpExamples('cratekeeper export /backup/before-upgrade && cratekeeper migrate --config /etc/cratekeeper.toml'))
    .action(async (options: CommonOptions) => {
      const { migrateDatabase } = await import('../src/ops/migrate.js');
      const state = await migrateDatabase(await configFrom(options), await progressOnStderr());
      console.log(`database schema is current: migrations ${state.applied.join(', ')}`);
    });
  withCommonOptions(program.command('export <folder>').description('write the whole registry (metadata and .crate files) to a new folder'))
    .addHelpText('after', helpExamples('cratekeeper export --data-dir /var/lib/cratekeeper /backup/cratekeeper-2026-12-04'))
    .action(async (folder: string, options: CommonOptions) => {
      const { exportRegistry } = await import('../src/ops/export-registry.js');
      const manifest = await exportRegistry(await configFrom(options), folder, await progressOnStderr());
      const rows = manifest.tables.reduce((n, t) => n + t.rows, 0);
      console.log(`exported ${rows} rows and ${manifest.blobs.count} .crate files (${manifest.blobs.bytes} bytes) to ${folder}`);
    });
  withCommonOptions(program.command('import <folder>').description('load an export into this registry, which must be empty'))
    .addHelpText('after', helpExamples('cratekeeper import --config /etc/cratekeeper-postgres.toml /backup/cratekeeper-2026-12-04'))
    .action(async (folder: string, options: CommonOptions) => {
      const { importRegistry } = await import('../src/ops/import-registry.js');
      const result = await importRegistry(await configFrom(options), folder, await progressOnStderr());
      console.log(`imported ${result.rows} rows and ${result.blobs} .crate files from ${folder}; every checksum matched`);
    });
}
