// Progress bars on stderr for long CLI tasks. On a terminal the bar is redrawn in place (at most
// every REDRAW_MS, and at the end); when stderr is a file or a pipe (CI logs, systemd) a line is
// written every tenth of the way and at least every `everyMs` with the count, so a long task shows
// it is alive without flooding the log.

import type { OnProgress } from '../domain/progress.js';

const WIDTH = 30;
const REDRAW_MS = 100;

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ProgressBarOptions {
  out?: ProgressOutput;
  /** Milliseconds; injected by tests. */
  now?: () => number;
  /** Without a terminal: the longest time between two lines. */
  everyMs?: number;
}

export class ProgressBar {
  private done = 0;
  private lastTenth = -1;
  private lastWrite: number;
  private readonly out: ProgressOutput;
  private readonly now: () => number;
  private readonly everyMs: number;

  constructor(
    private readonly total: number,
    private readonly label: string,
    options: ProgressBarOptions = {},
  ) {
    this.out = options.out ?? process.stderr;
    this.now = options.now ?? Date.now;
    this.everyMs = options.everyMs ?? 10_000;
    this.lastWrite = this.now();
  }

  get finished(): boolean {
    return this.done >= this.total;
  }

  tick(what = ''): void {
    this.update(this.done + 1, what);
  }

  /** Sets the count of finished units (it may jump: rows come in batches). */
  update(done: number, what = ''): void {
    this.done = Math.min(done, this.total);
    const finished = this.done >= this.total;
    const ratio = this.total === 0 ? 1 : this.done / this.total;
    const now = this.now();
    if (this.out.isTTY) {
      if (!finished && now - this.lastWrite < REDRAW_MS) return;
      this.lastWrite = now;
      const filled = Math.round(ratio * WIDTH);
      const bar = `${this.label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${this.done}/${this.total} ${what}`;
      this.out.write(`\r${bar.padEnd(100).slice(0, 100)}${finished ? '\n' : ''}`);
      return;
    }
    const tenth = Math.floor(ratio * 10);
    if (tenth !== this.lastTenth || finished || now - this.lastWrite >= this.everyMs) {
      this.lastTenth = tenth;
      this.lastWrite = now;
      this.out.write(`${this.label}: ${this.done}/${this.total} (${Math.floor(ratio * 100)}%)${what === '' ? '' : ` ${what}`}\n`);
    }
  }
}

/**
 * An `OnProgress` that shows each phase as a bar of its own, started when the phase first reports.
 * Phases may nest (a migration rebuilding totals inside "applying migrations"): on a terminal, a
 * bar left unfinished gets its line ended before another is drawn.
 */
export function progressBars(options: ProgressBarOptions = {}): OnProgress {
  const out = options.out ?? process.stderr;
  const bars = new Map<string, ProgressBar>();
  let last: ProgressBar | undefined;
  return (phase, done, total, what) => {
    const key = `${phase}\0${total}`;
    let bar = bars.get(key);
    if (bar === undefined) bars.set(key, (bar = new ProgressBar(total, phase, { ...options, out })));
    if (last !== undefined && last !== bar && out.isTTY && !last.finished) out.write('\n');
    last = bar;
    bar.update(done, what);
  };
}
