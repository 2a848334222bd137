// Fuzzes the .crate check on its own (no HTTP, no worker): sound crates with targeted damage. The
// check either accepts a crate whose manifest names the expected package, or refuses it with a
// typed registry error; it never throws anything else, never hangs, and never accepts a crate
// that the rules (written independently in test/support/crate-case.ts) say must be refused.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { inspectCrateTarball } from '../../src/domain/crate-tarball.js';
import { RegistryError } from '../../src/domain/errors.js';
import { buildCrate } from '../support/crate-case-build.js';
import { crateCaseArb, SOUND_CRATE, type CrateCase } from '../support/crate-case.js';
import { checkProperty } from '@cratekeeper/test-support/fuzz-check';
import { HangGuard } from '../support/hang-guard.js';

const limits = { maxUnpackedBytes: 256 * 1024, maxEntries: 24, maxManifestBytes: 16 * 1024 };
/** Far above what these small crates need (milliseconds): only a hang gets near it. */
const HANG_MS = 20_000;

/** Bugs this campaign found, checked on every run. */
const FOUND: Array<[CrateCase]> = [
  // A size field with a base-256 marker other than 0x80/0xff: tar-stream waited forever.
  [{ ...SOUND_CRATE, extras: [{ kind: 'raw-size', rel: 'x', size: [0x81, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] }] }],
  // `café.rs` twice, NFC and NFD: one file on macOS, two for a check that compared code points.
  [{ ...SOUND_CRATE, extras: [{ kind: 'duplicate', of: 'accent', spelling: 'nfd' }] }],
];

describe('fuzz: crate tarball check', () => {
  it('accepts only what the rules allow, refuses with a typed error, never throws or hangs', async () => {
    const expected = { name: 'fuzzed', version: '1.2.3-rc.1+build.5' };
    const guard = new HangGuard(HANG_MS);
    await checkProperty(
      fc.asyncProperty(crateCaseArb, async (crateCase) => {
        const crate = buildCrate(crateCase, expected.name, expected.version, limits);
        let contents;
        try {
          contents = await guard.run(inspectCrateTarball(crate.bytes, expected, limits), 'the tarball check');
        } catch (error) {
          assert.ok(error instanceof RegistryError, `not a typed refusal: ${(error as Error)?.stack ?? String(error)}`);
          assert.ok(['invalid', 'too-large'].includes(error.kind), `refused as ${error.kind}: ${error.message}`);
          assert.ok(error.message.length > 0);
          return;
        }
        assert.equal(crate.mustRefuse, undefined, `accepted a crate that must be refused: ${crate.mustRefuse}`);
        const pkg = contents.manifest.package as { name?: unknown; version?: unknown };
        assert.equal(pkg.name, expected.name);
        assert.equal(pkg.version, expected.version);
      }),
      { runs: 3000, file: import.meta.url, name: 'accepts only what the rules allow', examples: FOUND },
    );
  });
});
