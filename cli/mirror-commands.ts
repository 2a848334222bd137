// `cratekeeper mirror status` and `cratekeeper mirror sync --lockfile Cargo.lock`. They open the
// same configuration and storage as `serve` (and work while it runs); the server's modules are
// loaded only when one of them runs.

import { helpExamples } from '@cratekeeper/client/commands';
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';

interface MirrorOptions {
  config?: string;
  dataDir?: string;
  upstream?: string;
  lockfile?: string;
  json?: boolean;
}

async function openMirrors(options: MirrorOptions, forSync: boolean) {
  const { loadConfig } = await import('../src/config/load.js');
  const { openRegistry } = await import('../src/registry.js');
  const config = loadConfig({ file: options.config, env: process.env, flags: { 'storage.data_dir': options.dataDir } });
  // sync is the explicit request to fetch: it reaches the upstreams even where serving is offline.
  if (forSync) config.upstreams = config.upstreams.map((u) => ({ ...u, offline: false }));
  return openRegistry(config, { env: process.env });
}

function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

async function status(options: MirrorOptions): Promise<void> {
  const registry = await openMirrors(options, false);
  try {
    const all = await registry.mirror.status();
    if (options.json) {
      console.log(JSON.stringify(all, null, 2));
      return;
    }
    if (all.length === 0) console.log('no upstreams configured ([[upstreams]])');
    for (const { name, offline, indexUrl, status: s } of all) {
      const sum = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
      const files = Object.keys(s.indexFiles).length;
      const crates = Object.keys(s.crates).length;
      console.log(`${name}${offline ? ' (offline)' : ''}: ${indexUrl}`);
      console.log(`  index files cached: ${files} (${formatBytes(sum(s.indexFiles))})`);
      console.log(`  crates cached:      ${crates} (${formatBytes(sum(s.crates))})`);
      console.log(`  last success:       ${s.lastSuccessAt ?? 'never'}`);
      console.log(`  last error:         ${s.lastError ? `${s.lastError.at} ${s.lastError.message}` : 'none'}`);
    }
  } finally {
    await registry.close();
  }
}

async function sync(options: MirrorOptions): Promise<void> {
  const { parseLockfile } = await import('../src/mirror/lockfile.js');
  const { syncLockfile } = await import('../src/mirror/mirror-sync.js');
  const { ProgressBar } = await import('../src/lib/progress-bar.js');
  const { ConfigError } = await import('../src/config/load.js');
  const lockfile = options.lockfile!;
  const packages = parseLockfile(readFileSync(lockfile, 'utf8'), lockfile);
  const registry = await openMirrors(options, true);
  try {
    const names = registry.mirror.names;
    const name = options.upstream ?? (names.length === 1 ? names[0] : undefined);
    if (name === undefined)
      throw new ConfigError([
        names.length === 0 ? 'no upstreams configured ([[upstreams]])' : `--upstream: choose one of ${names.join(', ')}`,
      ]);
    const upstream = registry.mirror.get(name);
    if (!upstream) throw new ConfigError([`--upstream: no upstream named ${name} (configured: ${names.join(', ') || 'none'})`]);
    const result = await syncLockfile(upstream, packages, new ProgressBar(packages.length, `syncing ${name}`));
    console.log(`cached ${result.fetched} of ${packages.length} crates from ${name} (${formatBytes(result.bytes)})`);
    for (const f of result.failures) console.error(`failed: ${f.name} ${f.version}: ${f.message}`);
    if (result.failures.length > 0) process.exitCode = 1;
  } finally {
    await registry.close();
  }
}

export function registerMirrorCommands(program: Command): void {
  const mirror = program
    .command('mirror')
    .description('mirrored upstream registries ([[upstreams]])')
    .addHelpText('after', helpExamples('cratekeeper mirror sync --lockfile ./Cargo.lock'));
  const common = (command: Command) =>
    command
      .addOption(new Option('-c, --config <file>', 'TOML configuration file').env('CRATEKEEPER_CONFIG'))
      .option('--data-dir <dir>', 'folder for the database and crate files (storage.data_dir)');
  common(mirror.command('status').description('per upstream: what is cached, its size, and the last error'))
    .option('--json', 'print JSON')
    .addHelpText('after', helpExamples('cratekeeper mirror status --config /etc/cratekeeper.toml --json'))
    .action((options: MirrorOptions) => status(options));
  common(mirror.command('sync').description('fetch everything a Cargo.lock needs into the cache (for offline use)'))
    .requiredOption('--lockfile <file>', 'the Cargo.lock whose registry packages to fetch')
    .option('--upstream <name>', 'the upstream to fetch from (default: the only one)')
    .addHelpText(
      'after',
      helpExamples('cratekeeper mirror sync --config /etc/cratekeeper.toml --upstream crates-io --lockfile ./Cargo.lock'),
    )
    .action((options: MirrorOptions) => sync(options));
}
