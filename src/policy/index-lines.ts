// An index file as the policy engine sees it: one entry per line, with the fields rules look at
// (name, vers, pubtime, yanked) and where the line lies in the bytes, so a filtered file keeps every
// other line byte for byte (a mirror's lines stay the upstream's). Lines cargo could not parse are
// kept as they are: cargo skips them itself.

import type { VersionUnderReview } from './version-rule.js';

export interface IndexLine {
  /** Undefined for a line that is not a version (blank, or not JSON cargo could read). */
  version: VersionUnderReview | undefined;
  start: number;
  /** Just past the line's newline (or the end of the file). */
  end: number;
}

export function readIndexLines(body: Buffer): IndexLine[] {
  const lines: IndexLine[] = [];
  let start = 0;
  while (start < body.length) {
    const newline = body.indexOf(0x0a, start);
    const end = newline === -1 ? body.length : newline + 1;
    lines.push({ version: parseVersion(body.toString('utf8', start, newline === -1 ? end : newline)), start, end });
    start = end;
  }
  return lines;
}

function parseVersion(text: string): VersionUnderReview | undefined {
  if (text.trim() === '') return undefined;
  try {
    const line = JSON.parse(text) as { name?: unknown; vers?: unknown; pubtime?: unknown; yanked?: unknown };
    if (typeof line.name !== 'string' || typeof line.vers !== 'string') return undefined;
    const version: VersionUnderReview = { name: line.name, vers: line.vers, yanked: line.yanked === true };
    if (typeof line.pubtime === 'string') version.pubtime = line.pubtime;
    return version;
  } catch {
    return undefined;
  }
}

/**
 * The file with the versions in `held` marked yanked. cargo then resolves around them as around a
 * yanked version, while a Cargo.lock that already pins one still asks for its download, and shows
 * the refusal's reason; a version left out of the file entirely would fail such a lockfile with
 * "failed to select a version", naming no reason.
 */
export function withVersionsYanked(body: Buffer, lines: readonly IndexLine[], held: ReadonlySet<string>): Buffer {
  const out: Buffer[] = [];
  for (const line of lines) {
    const bytes = body.subarray(line.start, line.end);
    if (line.version === undefined || !held.has(line.version.vers) || line.version.yanked) {
      out.push(bytes);
      continue;
    }
    const parsed = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    parsed.yanked = true;
    out.push(Buffer.from(`${JSON.stringify(parsed)}\n`));
  }
  return Buffer.concat(out);
}
