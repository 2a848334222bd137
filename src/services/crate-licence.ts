// What a mirrored `.crate` declares about its licence, read on the CPU pool: the archive is
// unpacked (bounded, as a publish's is) and its Cargo.toml parsed off the event loop. The licence
// rule's upstream facts (mirror/upstream-licences.ts) fall back to it when the upstream has no web API.

import { invalid } from '../domain/errors.js';
import type { DeclaredLicence } from '../domain/licence-policy.js';
import type { CpuPool } from './cpu-pool.js';

/** Generous bounds: the upstream's bytes already match its index checksum, these only stop a bomb. */
const LIMITS = { maxUnpackedBytes: 1024 ** 3, maxEntries: 1_000_000, maxManifestBytes: 4 * 1024 ** 2 };
const TIMEOUT_MS = 30_000;

export async function readCrateLicence(cpu: CpuPool, crate: Buffer, name: string, version: string): Promise<DeclaredLicence> {
  const { licence } = await cpu.run(
    'inspectCrate',
    { crate, expected: { name, version }, limits: LIMITS },
    {
      timeoutMs: TIMEOUT_MS,
      onTimeout: () =>
        invalid('crate-check-timeout', `reading the Cargo.toml of ${name}@${version} took longer than ${TIMEOUT_MS / 1000} s`),
    },
  );
  return licence;
}
