// The registry packages a Cargo.lock names: those whose source is a registry (`registry+…` or
// `sparse+…`), with the checksum the lockfile recorded. Path and git packages are not mirrored.

import { parse as parseToml } from 'smol-toml';
import { invalid } from '../domain/errors.js';

export interface LockedPackage {
  name: string;
  version: string;
  source: string;
  checksum: string | undefined;
}

export function parseLockfile(text: string, file = 'Cargo.lock'): LockedPackage[] {
  let doc: { package?: unknown };
  try {
    doc = parseToml(text) as { package?: unknown };
  } catch (error) {
    throw invalid('invalid-lockfile', `${file} is not valid TOML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!Array.isArray(doc.package)) throw invalid('invalid-lockfile', `${file} has no [[package]] entries`);
  const out: LockedPackage[] = [];
  for (const entry of doc.package as Array<Record<string, unknown>>) {
    const { name, version, source, checksum } = entry;
    if (typeof name !== 'string' || typeof version !== 'string' || typeof source !== 'string') continue;
    if (!source.startsWith('registry+') && !source.startsWith('sparse+')) continue;
    out.push({ name, version, source, checksum: typeof checksum === 'string' ? checksum : undefined });
  }
  return out;
}
