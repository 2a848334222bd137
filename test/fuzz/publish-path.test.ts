// Fuzzes `PUT /api/v1/crates/new` through the real app (in process): publish bodies that are mostly
// valid, with targeted damage to the framing, the JSON metadata, the name and version, the
// dependencies, the token and the .crate (see test/support/publish-case.ts). For every input: no
// 5xx, no hang; a refusal is a 4xx in cargo's {"errors":[{"detail":...}]} shape and leaves every
// stored row and blob as it was; an input the rules say must be refused is refused; a clean publish
// of a free name is accepted; an accepted publish adds exactly its version, which downloads with
// the right checksum and is listed in the index.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { checkProperty, fuzzSettings } from '@cratekeeper/test-support/fuzz-check';
import { HangGuard } from '../support/hang-guard.js';
import { SOUND_CRATE } from '../support/crate-case.js';
import { buildPublish } from '../support/publish-case-build.js';
import { publishCaseArb, type PublishCase } from '../support/publish-case.js';
import {
  assertPublished,
  crateExists,
  FUZZ_LIMITS,
  judgeAnswer,
  sendPublish,
  startFuzzTarget,
  type FuzzTarget,
} from '../support/publish-fuzz-target.js';
import { assertOnlyPublished, readStoredState } from '../support/stored-state.js';

const RUNS = 800;
/** Far above what any of these small inputs needs: only a hang gets near it. */
const HANG_MS = 15_000;

const clean = (name: string, version: string, crate = SOUND_CRATE): [PublishCase] => [
  { identity: 'admin', name, version, deps: [], features: {}, metadata: { kind: 'none' }, crate, framing: { kind: 'none' } },
];
/** Bugs this campaign found, checked on every run. */
const FOUND: Array<[PublishCase]> = [
  // A 256-character version: accepted by the rules, then a blob folder name too long for the disk (500).
  clean('found-long-build', `1.0.0+${'b'.repeat(250)}`),
  // A 182-character version: published, but never downloadable (the router refuses the URL segment).
  clean('found-long-numbers', `${'9'.repeat(60)}.${'9'.repeat(60)}.9-alpha`),
  // A tar size field tar-stream cannot decode: the check on the worker thread waited forever.
  clean('found-size-field', '1.0.0', {
    ...SOUND_CRATE,
    extras: [{ kind: 'raw-size', rel: 'x', size: [0x81, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] }],
  }),
];

describe('fuzz: publish path (in process)', () => {
  let target: FuzzTarget;
  before(async () => {
    target = await startFuzzTarget();
  });
  after(() => target.r.close());

  it('never answers 5xx or hangs; refusals are cargo-shaped and change nothing; acceptances are complete', async () => {
    const seen = { accepted: 0, refused: 0, clean: 0 };
    const guard = new HangGuard(HANG_MS);
    await checkProperty(
      fc.asyncProperty(publishCaseArb, async (publishCase) => {
        const built = buildPublish(publishCase, FUZZ_LIMITS);
        if (built.clean) seen.clean++;
        const stateBefore = await readStoredState(target.r.registry, target.r.dataDir);
        const existed = await crateExists(target, built.name);
        const answer = await sendPublish(target, built, guard);
        const verdict = judgeAnswer(built, answer, existed);
        const stateAfter = await readStoredState(target.r.registry, target.r.dataDir);
        if (!verdict.accepted) {
          seen.refused++;
          assert.deepEqual(stateAfter, stateBefore, `a refused publish (${answer.status}: ${verdict.detail}) changed stored data`);
          return;
        }
        seen.accepted++;
        const published = await assertPublished(target, built);
        assertOnlyPublished(stateBefore, stateAfter, published, target.logins[built.identity]!);
      }),
      { runs: RUNS, file: import.meta.url, name: 'never answers 5xx or hangs', examples: FOUND },
    );
    // The generator must exercise both sides; a campaign that only ever refuses proves little.
    if (fuzzSettings(RUNS).numRuns >= 200) {
      assert.ok(seen.accepted >= 20, `only ${seen.accepted} accepted publishes: ${JSON.stringify(seen)}`);
      assert.ok(seen.refused >= 100, `only ${seen.refused} refused publishes: ${JSON.stringify(seen)}`);
    }
  });
});
