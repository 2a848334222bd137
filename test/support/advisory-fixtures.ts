// RustSec advisory files written in the real format, and advisory databases made of them: a
// folder laid out like a git clone of rustsec/advisory-db, or a .tar.gz in GitHub's archive layout.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { writeTar } from './tar-writer.js';

export interface AdvisoryFixture {
  id: string;
  package: string;
  title?: string;
  patched?: string[];
  unaffected?: string[];
  cvss?: string;
  informational?: string;
  withdrawn?: string;
  url?: string;
}

export function advisoryText(a: AdvisoryFixture): string {
  const list = (items: string[]) => `[${items.map((i) => JSON.stringify(i)).join(', ')}]`;
  return [
    '```toml',
    '[advisory]',
    `id = "${a.id}"`,
    `package = "${a.package}"`,
    'date = "2026-01-15"',
    ...(a.url ? [`url = "${a.url}"`] : []),
    'categories = ["memory-corruption"]',
    'keywords = ["fixture"]',
    ...(a.cvss ? [`cvss = "${a.cvss}"`] : []),
    ...(a.informational ? [`informational = "${a.informational}"`] : []),
    ...(a.withdrawn ? [`withdrawn = "${a.withdrawn}"`] : []),
    '',
    '[versions]',
    `patched = ${list(a.patched ?? [])}`,
    ...(a.unaffected ? [`unaffected = ${list(a.unaffected)}`] : []),
    '```',
    '',
    `# ${a.title ?? `${a.package} is affected by a fixture`}`,
    '',
    'Written for cratekeeper tests.',
    '',
  ].join('\n');
}

/** Files of a database: path (relative to its root) to text. Advisories go to crates/<package>/<id>.md. */
export function advisoryFiles(advisories: AdvisoryFixture[], extra: Record<string, string> = {}): Record<string, string> {
  const files: Record<string, string> = { 'README.md': '# Advisory database fixture\n', ...extra };
  for (const a of advisories) files[`crates/${a.package}/${a.id}.md`] = advisoryText(a);
  return files;
}

/** Writes the files into `dir`, with a `.git` folder holding a decoy .md, as a clone has. */
export function writeAdvisoryFolder(dir: string, files: Record<string, string>): string {
  for (const [path, text] of Object.entries({ ...files, '.git/crates/x/RUSTSEC-0000-0000.md': 'not an advisory' })) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/** The files as a .tar.gz under one top-level folder, as GitHub's archive of a branch is. */
export function advisoryArchive(files: Record<string, string>, topFolder = 'advisory-db-main'): Buffer {
  const entries = Object.entries(files).map(([path, text]) => ({ name: `${topFolder}/${path}`, body: Buffer.from(text) }));
  return gzipSync(writeTar([{ name: `${topFolder}/`, typeflag: '5' }, ...entries]));
}
