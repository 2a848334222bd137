// Splits a .netrc file into tokens, keeping each token's offsets and line so that the parser can
// report errors by line and the editor can change one value without touching the rest of the file.
// Follows the rules real readers share (Python's netrc, curl, inetutils ftp): tokens are separated by
// spaces, tabs and newlines; a value may be double-quoted, and a backslash escapes the next character
// both inside and outside quotes.

export interface NetrcToken {
  /** The value with quotes removed and escapes resolved. */
  value: string;
  /** Offset of the token's first character (the opening quote when quoted). */
  start: number;
  /** Offset just past the token's last character. */
  end: number;
  /** 1-based line of the token's start. */
  line: number;
}

export class NetrcSyntaxError extends Error {
  readonly code = 'NETRC_SYNTAX';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}: ${detail}`);
    this.name = 'NetrcSyntaxError';
  }
}

const isSpace = (ch: string) => ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v';

export class NetrcLexer {
  private pos = 0;
  private line = 1;

  constructor(
    readonly text: string,
    readonly file: string,
  ) {}

  /** Current 1-based line (where the next token would start after skipping blanks). */
  get currentLine(): number {
    return this.line;
  }

  private advance(): string {
    const ch = this.text[this.pos++]!;
    if (ch === '\n') this.line++;
    return ch;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && isSpace(this.text[this.pos]!)) this.advance();
  }

  /** The next token, or undefined at the end of the file. */
  next(): NetrcToken | undefined {
    this.skipSpace();
    if (this.pos >= this.text.length) return undefined;
    const start = this.pos;
    const line = this.line;
    let value = '';
    if (this.text[this.pos] === '"') {
      this.advance();
      for (;;) {
        if (this.pos >= this.text.length) throw new NetrcSyntaxError(this.file, line, 'unterminated quoted value');
        const ch = this.advance();
        if (ch === '"') break;
        if (ch === '\\') {
          if (this.pos >= this.text.length) throw new NetrcSyntaxError(this.file, line, 'unterminated quoted value');
          value += this.advance();
        } else value += ch;
      }
    } else {
      while (this.pos < this.text.length && !isSpace(this.text[this.pos]!)) {
        const ch = this.advance();
        if (ch === '\\' && this.pos < this.text.length) value += this.advance();
        else value += ch;
      }
    }
    return { value, start, end: this.pos, line };
  }

  /**
   * Skips a comment when the next token would start with `#`: the rest of that line, read as
   * plain text, so that a backslash ending it escapes nothing (curl does the same). Returns
   * whether there was one.
   */
  skipComment(): boolean {
    this.skipSpace();
    if (this.text[this.pos] !== '#') return false;
    this.skipLine();
    return true;
  }

  /** Skips the rest of the current line. */
  skipLine(): void {
    while (this.pos < this.text.length && this.text[this.pos] !== '\n') this.advance();
  }

  /**
   * Reads a `macdef` body: the lines after the current one, up to the first empty (or blank) line or
   * the end of the file. Returns the body lines, the offset where the body ends and whether a blank
   * line ended it.
   */
  readMacroBody(): { lines: string[]; end: number; terminated: boolean } {
    this.skipLine();
    if (this.pos < this.text.length) this.advance(); // the newline ending the `macdef name` line
    const lines: string[] = [];
    while (this.pos < this.text.length) {
      let eol = this.text.indexOf('\n', this.pos);
      if (eol === -1) eol = this.text.length;
      const content = this.text.slice(this.pos, eol);
      if (content.trim() === '') {
        const end = this.pos;
        this.pos = eol;
        return { lines, end, terminated: true };
      }
      lines.push(content);
      this.pos = eol;
      if (this.pos < this.text.length) this.advance();
    }
    return { lines, end: this.pos, terminated: false };
  }
}
