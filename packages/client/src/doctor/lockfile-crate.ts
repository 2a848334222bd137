// A crate the project already takes from a registry, read from its Cargo.lock (where cargo records
// `source = "sparse+<index URL>"`): the most useful crate to try a download with.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readTomlFile } from './cargo-config-files.js';

export function crateFromLockfile(projectDir: string, base: URL): string | undefined {
  const path = join(projectDir, 'Cargo.lock');
  if (!existsSync(path)) return undefined;
  let lock: { package?: Array<{ name?: string; source?: string }> };
  try {
    lock = readTomlFile(path) as typeof lock;
  } catch {
    return undefined;
  }
  return lock.package?.find((p) => p.source === `sparse+${base.href}`)?.name;
}
