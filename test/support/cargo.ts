// A sandbox for the real cargo: its own CARGO_HOME and HOME in a temporary folder (outside any
// project with a .cargo/config.toml), no proxy, no retries, so that every failure shows at once.
// cargo here is a rustup proxy, which finds its toolchains through RUSTUP_HOME: that is pinned
// to the real one before HOME is changed.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

export interface CargoResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface PackageSpec {
  name: string;
  version: string;
  /** Lines for [dependencies], e.g. `alpha = { version = "0.1", registry = "ck" }`. */
  dependencies?: string[];
  /** Source of src/lib.rs. */
  lib?: string;
  /** Extra [package] lines. */
  packageLines?: string[];
}

const RUSTUP_HOME = process.env.RUSTUP_HOME ?? join(homedir(), '.rustup');

export class CargoSandbox {
  readonly root: string;
  readonly cargoHome: string;
  readonly home: string;

  constructor(readonly registryName = 'ck') {
    this.root = makeTempDir('cratekeeper-cargo-');
    this.cargoHome = join(this.root, 'cargo-home');
    this.home = join(this.root, 'home');
    mkdirSync(this.cargoHome);
    mkdirSync(this.home);
  }

  /** Writes $CARGO_HOME/config.toml with a registry entry for `indexUrl` plus any extra TOML. */
  configure(indexUrl: string, extra = ''): void {
    writeFileSync(
      join(this.cargoHome, 'config.toml'),
      `[registries.${this.registryName}]\nindex = "sparse+${indexUrl}"\ncredential-provider = "cargo:token"\n\n` +
        `[net]\nretry = 0\n\n[term]\ncolor = "never"\n\n${extra}`,
    );
  }

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: this.home,
      CARGO_HOME: this.cargoHome,
      RUSTUP_HOME,
      CARGO_TERM_COLOR: 'never',
      CARGO_NET_RETRY: '0',
      NO_PROXY: '127.0.0.1,localhost,::1',
      ...extra,
    };
    if (process.env.RUSTUP_TOOLCHAIN) env.RUSTUP_TOOLCHAIN = process.env.RUSTUP_TOOLCHAIN;
    return env;
  }

  run(
    args: string[],
    options: { cwd?: string; input?: string; env?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<CargoResult> {
    return new Promise((resolve, reject) => {
      const child = spawn('cargo', args, {
        cwd: options.cwd ?? this.root,
        env: this.env(options.env),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000);
      child.on('error', reject);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
      child.stdin.end(options.input ?? '');
    });
  }

  /** Creates a library package in a folder of the sandbox and returns its path. */
  createPackage(spec: PackageSpec): string {
    const dir = join(this.root, 'packages', `${spec.name}-${spec.version}`);
    mkdirSync(join(dir, 'src'), { recursive: true });
    const manifest = [
      '[package]',
      `name = "${spec.name}"`,
      `version = "${spec.version}"`,
      'edition = "2021"',
      `description = "${spec.name}, a test crate"`,
      'license = "MIT"',
      ...(spec.packageLines ?? []),
      '',
      '[dependencies]',
      ...(spec.dependencies ?? []),
      '',
    ].join('\n');
    writeFileSync(join(dir, 'Cargo.toml'), manifest);
    writeFileSync(join(dir, 'src', 'lib.rs'), spec.lib ?? `pub fn name() -> &'static str { "${spec.name}" }\n`);
    return dir;
  }

  /** A binary package that depends on the given lines, to build against the registry. */
  createApp(name: string, dependencies: string[], main: string): string {
    const dir = join(this.root, 'apps', name);
    if (!existsSync(dir)) mkdirSync(join(dir, 'src'), { recursive: true });
    writeFileSync(
      join(dir, 'Cargo.toml'),
      [
        '[package]',
        `name = "${name}"`,
        'version = "0.0.0"',
        'edition = "2021"',
        'publish = false',
        '',
        '[dependencies]',
        ...dependencies,
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'src', 'main.rs'), main);
    return dir;
  }
}
