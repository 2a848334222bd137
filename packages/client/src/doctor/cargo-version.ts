// cargo's version, from `cargo --version` run where cargo would run (the project folder, so that a
// rustup toolchain file there counts). Authenticated registries (`auth-required`, credential
// providers) need cargo 1.74 or later.

import { execFile } from 'node:child_process';
import { error, ok, type Finding } from './finding.js';

export const MINIMUM_CARGO = { major: 1, minor: 74 };

export interface CargoVersion {
  major: number;
  minor: number;
  patch: number;
  text: string;
}

/** `cargo 1.95.0 (f2d3ce0bd 2026-03-21)` -> 1.95.0; undefined when the text is not cargo's. */
export function tryParseCargoVersion(output: string): CargoVersion | undefined {
  const match = /^cargo (\d+)\.(\d+)\.(\d+)\S*/.exec(output.trim());
  if (!match) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]), text: match[0] };
}

export function runCargoVersion(cwd: string, env: NodeJS.ProcessEnv): Promise<{ output: string } | { failure: string }> {
  return new Promise((resolve) => {
    execFile('cargo', ['--version'], { cwd, env, timeout: 60_000 }, (failed, stdout, stderr) => {
      if (failed) {
        const missing = (failed as NodeJS.ErrnoException).code === 'ENOENT';
        resolve({
          failure: missing ? 'cargo is not on PATH' : `\`cargo --version\` failed: ${(stderr || failed.message).trim().split('\n')[0]}`,
        });
      } else resolve({ output: stdout });
    });
  });
}

export function checkCargoVersion(result: { output: string } | { failure: string }): Finding {
  if ('failure' in result) return error('cargo', result.failure, 'install Rust with rustup (https://rustup.rs), then `rustup update`');
  const version = tryParseCargoVersion(result.output);
  if (!version)
    return error(
      'cargo',
      `cannot read cargo's version from \`${result.output.trim()}\``,
      'run `cargo --version` and check the installation',
    );
  const recentEnough =
    version.major > MINIMUM_CARGO.major || (version.major === MINIMUM_CARGO.major && version.minor >= MINIMUM_CARGO.minor);
  if (!recentEnough) {
    return error(
      'cargo',
      `${version.text} is too old: authenticated registries (auth-required, credential providers) need cargo 1.74 or later`,
      '`rustup update stable` (or raise the version in rust-toolchain.toml)',
    );
  }
  return ok('cargo', `${version.text} supports authenticated registries`);
}
