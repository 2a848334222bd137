// A progress bar on stderr for long CLI tasks: redrawn in place on a terminal, and a line every
// tenth of the way (and at the end) when stderr is a file or a pipe, so CI logs stay readable.

export class ProgressBar {
  private done = 0;
  private lastTenth = -1;

  constructor(
    private readonly total: number,
    private readonly label: string,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  tick(what: string): void {
    this.done++;
    const ratio = this.total === 0 ? 1 : this.done / this.total;
    if (this.out.isTTY) {
      const width = 30;
      const filled = Math.round(ratio * width);
      this.out.write(
        `\r${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${this.done}/${this.total} ${what}`.padEnd(100).slice(0, 100),
      );
      if (this.done === this.total) this.out.write('\n');
      return;
    }
    const tenth = Math.floor(ratio * 10);
    if (tenth !== this.lastTenth || this.done === this.total) {
      this.lastTenth = tenth;
      this.out.write(`${this.label} ${this.done}/${this.total} (${Math.round(ratio * 100)}%) ${what}\n`);
    }
  }
}
