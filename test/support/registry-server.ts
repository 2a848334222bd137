// Starts the real `cratekeeper serve` (the compiled CLI) on a free loopback port, in a data folder
// of its own, and reads the URL and first admin token from its stdout, as a script would.

import { spawn, type ChildProcess } from 'node:child_process';
import { delimiter, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProgram, type ProgramResult } from '@cratekeeper/test-support/run-program';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

export const CLI_PATH = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
/** The `cratekeeper` command as installed (package.json's bin): a shell script that starts CLI_PATH. */
export const LAUNCHER_PATH = fileURLToPath(new URL('../../../bin/cratekeeper', import.meta.url));

export interface RunningRegistry {
  url: string;
  /** The admin's first token; undefined when the data folder was not empty. */
  adminToken: string | undefined;
  dataDir: string;
  child: ChildProcess;
  /** Everything the server printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then waits for the exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
}

export interface StartOptions {
  dataDir?: string;
  args?: string[];
  env?: Record<string, string>;
  /** Start it through LAUNCHER_PATH (with this Node first on PATH) instead of `node CLI_PATH`. */
  viaLauncher?: boolean;
}

// A test that fails before stopping its server must not leave it running, nor keep the test
// process alive: servers do not hold the event loop open and die with the test process.
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

type Refable = { ref?: () => void; unref?: () => void } | null;

/** Holds the event loop open for the child only while a test waits on it. */
function holdLoop(child: ChildProcess, hold: boolean): void {
  const method = hold ? 'ref' : 'unref';
  child[method]();
  for (const stream of [child.stdout, child.stderr]) (stream as unknown as Refable)?.[method]?.();
}

function detach(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  holdLoop(child, false);
}

async function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  holdLoop(child, true);
  try {
    return await new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  } finally {
    holdLoop(child, false);
  }
}

export async function startRegistry(options: StartOptions = {}): Promise<RunningRegistry> {
  const dataDir = options.dataDir ?? makeTempDir('cratekeeper-data-');
  const args = ['serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, ...(options.args ?? [])];
  const env: NodeJS.ProcessEnv = { ...process.env, CRATEKEEPER_LOG__LEVEL: 'warn', ...options.env };
  if (options.viaLauncher) env.PATH = `${dirname(process.execPath)}${delimiter}${env.PATH ?? ''}`;
  const child = options.viaLauncher
    ? spawn(LAUNCHER_PATH, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [CLI_PATH, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  detach(child);
  let output = '';
  let stdout = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const ready = new Promise<{ url: string; adminToken: string | undefined }>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      output += chunk.toString();
      const url = /cratekeeper listening on (\S+)/.exec(stdout)?.[1];
      // The token line, when there is one, comes before the URL line.
      if (url !== undefined) resolve({ url, adminToken: /first token \(shown only this once\): (\S+)/.exec(stdout)?.[1] });
    });
    child.once('exit', (code) => reject(new Error(`cratekeeper serve exited with ${code} before listening:\n${output}`)));
  });
  // A guard against a server that never starts, not a speed limit: a start takes a second or two,
  // but over 20 s was seen at a load average of 25, and a loaded CI machine must not fail the test.
  const timeout = setTimeout(() => child.kill('SIGKILL'), 60_000);
  holdLoop(child, true);
  try {
    const { url, adminToken } = await ready;
    return {
      url,
      adminToken,
      dataDir,
      child,
      output: () => output,
      async stop() {
        child.kill('SIGTERM');
        return exited(child);
      },
      async kill() {
        child.kill('SIGKILL');
        await exited(child);
      },
    };
  } finally {
    clearTimeout(timeout);
    holdLoop(child, false);
  }
}

/** Runs a `cratekeeper` CLI command to completion. */
export function runCli(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<ProgramResult> {
  return runProgram(process.execPath, [CLI_PATH, ...args], { env: { ...process.env, ...options.env }, input: options.input });
}
