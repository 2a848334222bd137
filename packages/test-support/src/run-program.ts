// Runs a program to completion and collects what it wrote, for the tests that drive a command line
// (the server's `cratekeeper`, the client's `cratekeeper-client`, curl, git) as a user or cargo would.

import { spawn } from 'node:child_process';

export interface ProgramResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunProgramOptions {
  /** The program's whole environment; this process's when not given. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to its stdin, which is then closed; without it, stdin is not connected. */
  input?: string;
}

/** Runs `file` with `args` until it exits and its output is closed; rejects only if it cannot start. */
export function runProgram(file: string, args: string[], options: RunProgramOptions = {}): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin?.end(options.input);
  });
}
