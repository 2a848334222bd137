// Runs one step of a docs build as a child process (never on the server's event loop), in its own
// process group so that a time limit kills it and everything it started; its output is kept, bounded.

import { spawn } from 'node:child_process';

/** Keeps the last `max` characters of what was appended: a build log stays bounded. */
export class BoundedLog {
  private text = '';
  private dropped = 0;

  constructor(private readonly max: number) {}

  append(chunk: string): void {
    this.text += chunk;
    if (this.text.length > this.max) {
      this.dropped += this.text.length - this.max;
      this.text = this.text.slice(this.text.length - this.max);
    }
  }

  toString(): string {
    return this.dropped > 0 ? `[... ${this.dropped} earlier characters left out ...]\n${this.text}` : this.text;
  }
}

export interface ChildRun {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Killed (with its whole process group) past this time. */
  timeoutMs: number;
  log: BoundedLog;
  /** What the log shows as the command line (the sandbox's long preamble left out), when not the command. */
  shown?: string;
}

/** The exit code, or 'timeout'. */
export function runChild(run: ChildRun): Promise<number | 'timeout'> {
  return new Promise((resolve) => {
    run.log.append(`$ ${run.shown ?? [run.command, ...run.args].join(' ')}\n`);
    const child = spawn(run.command, run.args, { cwd: run.cwd, env: run.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, run.timeoutMs);
    child.stdout.on('data', (c: Buffer) => run.log.append(c.toString()));
    child.stderr.on('data', (c: Buffer) => run.log.append(c.toString()));
    child.on('error', (error) => {
      clearTimeout(timer);
      run.log.append(`${error.message}\n`);
      resolve(127);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) resolve('timeout');
      else resolve(code ?? (signal ? 128 : 1));
    });
  });
}
