// Builders for the mirror tests' real upstreams: a cratekeeper holding Debian's crates (published
// through the HTTP API, dependencies first), and a static sparse index on disk for nginx.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { indexPathOf } from '../../src/domain/crate-name.js';
import { renderIndexLine } from '../../src/domain/index-line.js';
import { crateBytes, indexEntryOf, publishBodyOf, type DebianCrate } from './debian-crates.js';
import { publish } from './http-client.js';

export async function publishAll(url: string, token: string, crates: DebianCrate[]): Promise<void> {
  for (const c of crates) {
    const result = await publish(url, token, publishBodyOf(c));
    if (result.status !== 200) throw new Error(`publishing ${c.name}@${c.version} failed: ${result.status} ${result.body.toString()}`);
  }
}

/** Writes index/config.json, index/<path> and crates/<name>/<version>.crate under root. */
export function writeStaticIndex(root: string, url: string, crates: DebianCrate[]): void {
  const files = new Map<string, string>();
  for (const c of crates) {
    const path = indexPathOf(c.name);
    files.set(path, (files.get(path) ?? '') + renderIndexLine(indexEntryOf(c), false) + '\n');
    const crateFile = join(root, 'crates', c.name, `${c.version}.crate`);
    mkdirSync(dirname(crateFile), { recursive: true });
    writeFileSync(crateFile, crateBytes(c));
  }
  for (const [path, body] of files) {
    mkdirSync(dirname(join(root, 'index', path)), { recursive: true });
    writeFileSync(join(root, 'index', path), body);
  }
  writeFileSync(join(root, 'index', 'config.json'), JSON.stringify({ dl: `${url}/crates/{crate}/{version}.crate` }));
}
