// Builders for the mirror tests' real upstreams: a cratekeeper holding Debian's crates (published
// through the HTTP API, dependencies first), and a static sparse index on disk for nginx.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { indexPathOf } from '../../src/domain/crate-name.js';
import { renderIndexLine } from '../../src/domain/index-line.js';
import { crateBytes, indexEntryOf, keepInstalled, publishBodyOf, type DebianCrate } from './debian-crates.js';
import { publish } from './http-client.js';

/**
 * Publishes in passes: a crate whose dependency is not there yet waits for the next pass. When a
 * pass publishes nothing (a cycle through optional dependencies), the waiting crates lose their
 * dependencies on each other, which breaks the cycle.
 */
export async function publishAll(url: string, token: string, crates: DebianCrate[]): Promise<void> {
  let pending = crates;
  for (let pass = 0; pending.length > 0; pass++) {
    const waiting: DebianCrate[] = [];
    let last = '';
    for (const c of pending) {
      const result = await publish(url, token, publishBodyOf(c));
      last = `${c.name}@${c.version}: ${result.status} ${result.body.toString()}`;
      if (result.status === 200) continue;
      if (!last.includes('exists in this registry') || pass >= 10) throw new Error(`publishing ${last}`);
      waiting.push(c);
    }
    if (waiting.length === pending.length) {
      const stuck = new Set(waiting.map((c) => c.name));
      const others = new Set(crates.map((c) => c.name).filter((n) => !stuck.has(n)));
      const next = waiting.map((c) => keepInstalled(c, others));
      if (next.every((c, i) => c.deps.length === waiting[i]!.deps.length)) throw new Error(`publishing stalled: ${last}`);
      pending = next;
    } else pending = waiting;
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
