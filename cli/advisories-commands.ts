// `cratekeeper advisories sync --from PATH|URL --for <upstream|local>` and `advisories list`: the
// RustSec advisory database the advisory rule reads (src/policy/advisory-rule.ts). They open the
// same configuration and database as `serve` (and work while it runs: a sync reaches every
// replica through the change feed); the server's modules are loaded only when one of them runs.

import { helpExamples } from '@cratekeeper/client/commands';
import { Option, type Command } from 'commander';

interface AdvisoryOptions {
  config?: string;
  dataDir?: string;
  from?: string;
  for: string;
  json?: boolean;
}

async function openDatabase(options: AdvisoryOptions) {
  const { loadConfig, ConfigError } = await import('../src/config/load.js');
  const { openMetadataDatabase } = await import('../src/registry.js');
  const config = loadConfig({ file: options.config, env: process.env, flags: { 'storage.data_dir': options.dataDir } });
  const names = config.upstreams.map((u) => u.name);
  // `local` always means the crates published here, even beside an upstream of that name.
  if (options.for !== 'local' && !names.includes(options.for)) {
    throw new ConfigError([`--for: no upstream named ${options.for}; use \`local\` or one of: ${names.join(', ') || '(none configured)'}`]);
  }
  const source = options.for === 'local' ? 'local' : `upstream:${options.for}`;
  return { database: await openMetadataDatabase(config), source };
}

async function sync(options: AdvisoryOptions): Promise<void> {
  const { AdvisorySyncService } = await import('../src/services/advisory-sync.js');
  const { progressBars } = await import('../src/lib/progress-bar.js');
  const { database, source } = await openDatabase(options);
  try {
    const summary = await new AdvisorySyncService(database.advisories).sync(options.from!, source, progressBars());
    console.log(
      `imported ${summary.imported} advisories for ${options.for} from ${summary.origin} ` +
        `(${summary.withdrawn} withdrawn, ${summary.skipped.length} skipped); they replace the previous ones`,
    );
    for (const s of summary.skipped) console.log(`skipped ${s.path}: ${s.reason}`);
    for (const s of summary.unscored) console.log(`imported without a CVSS score ${s.path}: ${s.reason}`);
  } finally {
    await database.close();
  }
}

async function list(crate: string, options: AdvisoryOptions): Promise<void> {
  const { database, source } = await openDatabase(options);
  try {
    const advisories = await database.advisories.forCrate(source, crate);
    if (options.json) {
      console.log(JSON.stringify(advisories, null, 2));
      return;
    }
    const last = await database.advisories.lastSync(source);
    if (!last) console.log(`no advisories synced for ${options.for} yet (cratekeeper advisories sync)`);
    for (const a of advisories) {
      const flags = [
        a.withdrawn && `withdrawn ${a.withdrawn}`,
        a.informational,
        a.cvssScore !== undefined && `CVSS ${a.cvssScore.toFixed(1)}`,
      ];
      console.log(`${a.id} ${a.date} ${a.title}${flags.some(Boolean) ? ` [${flags.filter(Boolean).join(', ')}]` : ''}`);
      console.log(
        `  patched: ${a.patched.join(' or ') || 'none'}${a.unaffected.length ? `; unaffected: ${a.unaffected.join(' or ')}` : ''}`,
      );
    }
    if (last && advisories.length === 0) console.log(`no advisories for ${crate} from ${options.for} (synced ${last.syncedAt})`);
  } finally {
    await database.close();
  }
}

export function registerAdvisoryCommands(program: Command): void {
  const advisories = program
    .command('advisories')
    .description('the RustSec advisory database the policy rule `advisories` reads')
    .addHelpText('after', helpExamples('cratekeeper advisories sync --from ./advisory-db --for crates-io'));
  const common = (command: Command) =>
    command
      .addOption(new Option('-c, --config <file>', 'TOML configuration file').env('CRATEKEEPER_CONFIG'))
      .option('--data-dir <dir>', 'folder for the database and crate files (storage.data_dir)')
      .requiredOption('--for <source>', 'the upstream whose crates the advisories are about, or `local` for crates published here');
  common(
    advisories
      .command('sync')
      .description("replace a source's advisories with a RustSec database: a folder (a git clone), a .tar.gz of one, or its URL"),
  )
    .requiredOption('--from <path-or-url>', 'folder, .tar.gz file, or http(s) URL of a .tar.gz')
    .addHelpText(
      'after',
      helpExamples(
        'git clone https://github.com/rustsec/advisory-db && cratekeeper advisories sync --from ./advisory-db --for crates-io',
        'cratekeeper advisories sync --from https://github.com/rustsec/advisory-db/archive/refs/heads/main.tar.gz --for crates-io',
      ),
    )
    .action((options: AdvisoryOptions) => sync(options));
  common(advisories.command('list <crate>').description('the advisories synced for one crate of a source'))
    .option('--json', 'print JSON')
    .addHelpText('after', helpExamples('cratekeeper advisories list smallvec --for crates-io'))
    .action((crate: string, options: AdvisoryOptions) => list(crate, options));
}
