import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cvssBaseScore, cvssProblem, cvssSeverity, tryCvssBaseScore } from '../../src/domain/cvss.js';

// Vectors and base scores as FIRST's CVSS 3.1 calculator gives them.
const KNOWN: [string, number][] = [
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', 10.0],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', 7.5],
  ['CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', 7.8],
  ['CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N', 5.9],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', 6.1],
  ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N', 4.3],
  ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H', 9.9],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N', 0],
  // Temporal metrics are allowed and leave the base score alone.
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O', 9.8],
];

// CVSS 4.0 has no formula (a macro-vector table and an interpolation): vectors and CVSS-B scores as
// FIRST's v4.0 calculator gives them (the first ones are in the reference table of the polycvss
// crate, taken from that calculator); the RustSec ones are vectors of the real advisory database,
// whose scores an independent implementation (polycvss 0.4) gives too.
const KNOWN_4: [string, number][] = [
  ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', 9.3],
  ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N', 6.9],
  ['CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N', 8.5],
  ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:L/VA:N/SC:N/SI:N/SA:N', 8.8],
  ['CVSS:4.0/AV:P/AC:L/AT:P/PR:N/UI:N/VC:H/VI:L/VA:N/SC:L/SI:H/SA:H', 5.9],
  ['CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:L/VA:N/SC:H/SI:H/SA:H', 9.1],
  ['CVSS:4.0/AV:L/AC:H/AT:N/PR:N/UI:P/VC:L/VI:L/VA:L/SC:H/SI:H/SA:H', 5.2],
  ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H', 10.0],
  ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N', 0],
  // RUSTSEC-2026-0073 (libcrux-poly1305), RUSTSEC-2025-0168 (zip)
  ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N', 8.7],
  ['CVSS:4.0/AV:N/AC:H/AT:N/PR:L/UI:N/VC:L/VI:H/VA:N/SC:H/SI:H/SA:H', 7.3],
  ['CVSS:4.0/AV:N/AC:H/AT:P/PR:H/UI:A/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N', 1.8],
  // Threat and supplemental metrics are allowed and leave the base score alone (E:U alone would
  // give a CVSS-BT of 1.7: a policy minimum compares base scores).
  ['CVSS:4.0/AV:N/AC:H/AT:P/PR:N/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N/E:U', 6.3],
  ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A/S:P/U:Red', 9.3],
];

describe('CVSS 4.0 base scores', () => {
  for (const [vector, score] of KNOWN_4) {
    it(`${vector} is ${score}`, () => assert.equal(cvssBaseScore(vector), score));
  }

  it('refuses CVSS 4.0 vectors with a missing, unknown, repeated or wrong metric', () => {
    for (const [vector, why] of [
      ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H', /the base metric SC is missing/],
      ['CVSS:4.0/AV:N/AC:L/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', /the base metric AT is missing/],
      ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:R/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', /UI:R is not a value of UI/],
      ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N', /SI:S is not a value of SI/],
      ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/S:U', /S:U is not a value of S/],
      ['CVSS:4.0/AV:N/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', /AV is given twice/],
      ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/C:H', /C is not a CVSS 4.0 metric/],
      ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA', /`SA` is not METRIC:VALUE/],
      ['CVSS:4.1/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', /must start with CVSS:3.0\/, CVSS:3.1\/ or CVSS:4.0\//],
    ] as const) {
      assert.throws(
        () => cvssBaseScore(vector),
        (e: Error & { code?: string }) => e.code === 'invalid-cvss' && why.test(e.message),
        vector,
      );
    }
  });

  it('says why a vector has no score, without throwing', () => {
    assert.equal(tryCvssBaseScore('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N'), 8.7);
    assert.equal(cvssProblem('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N'), undefined);
    assert.equal(tryCvssBaseScore('CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P'), undefined);
    assert.match(cvssProblem('CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P') ?? '', /is not a CVSS vector: it must start with/);
  });
});

describe('CVSS 3 base scores', () => {
  for (const [vector, score] of KNOWN) {
    it(`${vector} is ${score}`, () => assert.equal(cvssBaseScore(vector), score));
  }

  it('refuses vectors that are not CVSS 3', () => {
    for (const vector of [
      'AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
      'CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P',
      'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H',
      'CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
      'CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
      'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1',
      'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A',
    ]) {
      assert.throws(
        () => cvssBaseScore(vector),
        (e: Error & { code?: string }) => e.code === 'invalid-cvss',
        vector,
      );
    }
  });

  it('rates scores', () => {
    assert.deepEqual([0, 3.9, 4, 6.9, 7, 8.9, 9, 10].map(cvssSeverity), [
      'none',
      'low',
      'medium',
      'medium',
      'high',
      'high',
      'critical',
      'critical',
    ]);
  });
});
