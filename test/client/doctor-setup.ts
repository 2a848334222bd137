// A user's cargo setup for `cratekeeper doctor` tests: a temporary CARGO_HOME, HOME and project
// folder, files written into them as a user would, and doctor run as the installed command
// (the server's `cratekeeper`, delegating to the client package) with only that environment.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { runProgram } from '@cratekeeper/test-support/run-program';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { CLI_PATH } from '../support/registry-server.js';

export interface DoctorRun {
  code: number | null;
  stdout: string;
  stderr: string;
  lines: string[];
}

export class DoctorSetup {
  readonly root = makeTempDir('cratekeeper-doctor-');
  readonly cargoHome = join(this.root, 'cargo-home');
  readonly home = join(this.root, 'home');
  readonly project = join(this.root, 'work', 'app');

  constructor() {
    for (const dir of [this.cargoHome, this.home, this.project]) mkdirSync(dir, { recursive: true });
  }

  /** Writes a file under the sandbox (`cargo-home/config.toml`, `work/.cargo/config.toml`, ...). */
  write(relative: string, text: string, mode?: number): string {
    const path = join(this.root, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text, mode === undefined ? undefined : { mode });
    return path;
  }

  env(extra: Record<string, string>): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: this.home,
      CARGO_HOME: this.cargoHome,
      RUSTUP_HOME: process.env.RUSTUP_HOME ?? join(homedir(), '.rustup'),
      ...extra,
    };
    if (process.env.RUSTUP_TOOLCHAIN) env.RUSTUP_TOOLCHAIN = process.env.RUSTUP_TOOLCHAIN;
    return env;
  }

  async doctor(args: string[] = [], extraEnv: Record<string, string> = {}, cli = CLI_PATH): Promise<DoctorRun> {
    const result = await runProgram(process.execPath, [cli, 'doctor', '--project', this.project, ...args], {
      env: this.env(extraEnv),
      cwd: this.root,
    });
    return { ...result, lines: result.stdout.split('\n').filter((l) => l !== '') };
  }
}

/** The one line of `check` (for `registry`) with `status`; fails listing the whole report otherwise. */
export function findingLine(run: DoctorRun, status: 'ok' | 'warning' | 'error', check: string, registry?: string): string {
  const prefix = new RegExp(`^${status}\\s+${registry === undefined ? '' : `\\[${registry}\\] `}${check}: `);
  const line = run.lines.find((l) => prefix.test(l));
  assert.ok(line, `no "${status} ${registry ?? ''} ${check}" line in:\n${run.stdout}${run.stderr}`);
  return line;
}

export function assertNoErrors(run: DoctorRun): void {
  assert.equal(run.code, 0, `doctor failed:\n${run.stdout}${run.stderr}`);
  assert.ok(!run.lines.some((l) => l.startsWith('error')), run.stdout);
}

/** `[registries.NAME]` with the index and any further lines. */
export function registryToml(name: string, index: string, ...lines: string[]): string {
  return [`[registries.${name}]`, `index = "${index}"`, ...lines, ''].join('\n');
}
