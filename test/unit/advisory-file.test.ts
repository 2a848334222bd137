import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAffected, isUnscored, parseAdvisoryFile } from '../../src/domain/advisory-file.js';
import { parseVersion } from '../../src/domain/version.js';

const GOOD = `\`\`\`toml
[advisory]
id = "RUSTSEC-2026-0001"
package = "smallvec"
date = "2026-01-15"
url = "https://example.com/smallvec/issues/1"
categories = ["memory-corruption"]
keywords = ["buffer-overflow"]
aliases = ["CVE-2026-1111", "GHSA-xxxx-yyyy-zzzz"]
cvss = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"

[affected]
functions = { "smallvec::SmallVec::insert_many" = ["< 1.6.1"] }

[versions]
patched = [">= 1.6.1"]
unaffected = ["< 0.6.10"]
\`\`\`

# Buffer overflow in SmallVec::insert_many

A bug in \`insert_many\` can write past the end of the buffer.

Upgrade to 1.6.1.
`;

const PATH = 'crates/smallvec/RUSTSEC-2026-0001.md';

/** A real advisory of the RustSec database (CC0), one of those with a CVSS 4.0 vector. */
const REAL_CVSS_4 = `\`\`\`toml
[advisory]
id = "RUSTSEC-2026-0073"
package = "libcrux-poly1305"
date = "2026-03-04"
cvss = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N"
url = "https://github.com/cryspen/libcrux/pull/1351"
aliases = ["GHSA-pv9v-5j35-xwcr"]

[affected.functions]
"libcrux_poly1305::mac" = [ "<= 0.0.4" ]

[versions]
patched = [">= 0.0.5 "]
\`\`\`

# Panic in Standalone MAC Operations

An incorrect constant for the key length in libcrux-poly1305 caused
the standalone MAC function \`libcrux_poly1305::mac\` to always panic
with an out-of-bounds memory access.
`;

function faultOf(path: string, text: string): string {
  try {
    parseAdvisoryFile(path, text);
  } catch (error) {
    assert.equal((error as { code?: string }).code, 'invalid-advisory');
    return (error as Error).message;
  }
  assert.fail(`${path} was accepted`);
}

describe('RustSec advisory files', () => {
  it('reads every field of a good file', () => {
    const advisory = parseAdvisoryFile(PATH, GOOD);
    assert.deepEqual(advisory, {
      id: 'RUSTSEC-2026-0001',
      package: 'smallvec',
      date: '2026-01-15',
      title: 'Buffer overflow in SmallVec::insert_many',
      description: 'A bug in `insert_many` can write past the end of the buffer.\n\nUpgrade to 1.6.1.',
      url: 'https://example.com/smallvec/issues/1',
      cvss: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
      cvssScore: 9.8,
      aliases: ['CVE-2026-1111', 'GHSA-xxxx-yyyy-zzzz'],
      categories: ['memory-corruption'],
      patched: ['>= 1.6.1'],
      unaffected: ['< 0.6.10'],
    });
  });

  it('reads an informational, withdrawn advisory with a TOML title, bare dates and no score', () => {
    const text = [
      '```toml',
      '[advisory]',
      'id = "RUSTSEC-2026-0002"',
      'package = "old-crate"',
      'date = 2026-02-01',
      'withdrawn = 2026-03-01',
      'informational = "unmaintained"',
      'title = "old-crate is unmaintained"',
      '',
      '[versions]',
      'patched = []',
      '```',
      '',
      'No heading here; the title comes from the front matter.',
    ].join('\r\n');
    const advisory = parseAdvisoryFile('crates/old-crate/RUSTSEC-2026-0002.md', text);
    assert.equal(advisory.title, 'old-crate is unmaintained');
    assert.equal(advisory.date, '2026-02-01');
    assert.equal(advisory.withdrawn, '2026-03-01');
    assert.equal(advisory.informational, 'unmaintained');
    assert.equal(advisory.cvssScore, undefined);
    assert.deepEqual(advisory.patched, []);
  });

  it('reads a real advisory with a CVSS 4.0 vector and scores it', () => {
    const advisory = parseAdvisoryFile('crates/libcrux-poly1305/RUSTSEC-2026-0073.md', REAL_CVSS_4);
    assert.equal(advisory.cvss, 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N');
    assert.equal(advisory.cvssScore, 8.7);
    assert.equal(isUnscored(advisory), false);
    assert.equal(advisory.title, 'Panic in Standalone MAC Operations');
    assert.equal(isAffected(advisory, parseVersion('0.0.4')), true);
    assert.equal(isAffected(advisory, parseVersion('0.0.5')), false);
  });

  it('keeps an advisory whose CVSS vector cannot be scored, unscored, rather than leaving it out', () => {
    for (const vector of ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Q', 'CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P', 'high']) {
      const advisory = parseAdvisoryFile(PATH, GOOD.replace('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', vector));
      assert.equal(advisory.cvss, vector);
      assert.equal(advisory.cvssScore, undefined);
      assert.equal(isUnscored(advisory), true, vector);
    }
    assert.equal(isUnscored(parseAdvisoryFile(PATH, GOOD.replace(/cvss = .*\n/, ''))), false, 'no vector: not unscored');
  });

  it('says which versions are affected: those matching neither patched nor unaffected', () => {
    const advisory = parseAdvisoryFile(PATH, GOOD);
    const affected = (v: string) => isAffected(advisory, parseVersion(v));
    assert.deepEqual(['0.6.9', '0.6.10', '1.0.0', '1.6.0', '1.6.1', '1.7.0', '2.0.0', '1.6.1-rc.1'].map(affected), [
      false,
      true,
      true,
      true,
      false,
      false,
      false,
      true,
    ]);
    assert.equal(isAffected({ ...advisory, withdrawn: '2026-02-01' }, parseVersion('1.0.0')), false);
    // No patched version at all: every version is affected.
    assert.equal(isAffected({ patched: [], unaffected: [] }, parseVersion('9.9.9')), true);
  });

  const replace = (from: string, to: string) => GOOD.replace(from, to);
  const MALFORMED: [string, string, string, RegExp][] = [
    ['no front matter', PATH, '# Title\n\ntext', /must start with a ```toml fenced front matter/],
    ['an unclosed front matter', PATH, GOOD.replace(/```\n\n# Buffer/, '\n# Buffer'), /never closed/],
    ['TOML that does not parse', PATH, replace('package = "smallvec"', 'package = smallvec"'), /not valid TOML/],
    ['no [advisory] table', PATH, replace('[advisory]', '[advisori]'), /no \[advisory\] table/],
    ['no [versions] table', PATH, replace('[versions]', '[version]'), /no \[versions\] table/],
    ['a missing id', PATH, replace('id = "RUSTSEC-2026-0001"\n', ''), /advisory\.id is missing/],
    ['an id of the wrong form', 'crates/smallvec/CVE-2026-1.md', replace('"RUSTSEC-2026-0001"', '"CVE-2026-1"'), /not of the form RUSTSEC/],
    ['an id that is not the file name', 'crates/smallvec/RUSTSEC-2026-0009.md', GOOD, /file name must be the advisory id/],
    ['a package that is not the folder', 'crates/other/RUSTSEC-2026-0001.md', GOOD, /differs from its folder crates\/other\//],
    ['a path outside crates/<name>/', 'RUSTSEC-2026-0001.md', GOOD, /must be at crates\/<crate name>\/<advisory id>\.md/],
    ['a missing date', PATH, replace('date = "2026-01-15"\n', ''), /advisory\.date is missing/],
    ['a date that is not a date', PATH, replace('"2026-01-15"', '"15/01/2026"'), /advisory\.date must be a date/],
    [
      'a withdrawn that is not a date',
      PATH,
      replace('[affected]', 'withdrawn = true\n\n[affected]').replace('[advisory]\n', '[advisory]\n'),
      /advisory\.withdrawn must be a date/,
    ],
    [
      'a CVSS that is not a string',
      PATH,
      replace('cvss = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"', 'cvss = 9.8'),
      /advisory\.cvss must be a string/,
    ],
    ['a requirement cargo would refuse', PATH, replace('">= 1.6.1"', '"latest"'), /versions: `latest` is not a cargo version requirement/],
    [
      'patched that is not a list',
      PATH,
      replace('patched = [">= 1.6.1"]', 'patched = ">= 1.6.1"'),
      /versions\.patched must be a list of strings/,
    ],
    [
      'aliases that are not strings',
      PATH,
      replace('aliases = ["CVE-2026-1111", "GHSA-xxxx-yyyy-zzzz"]', 'aliases = [1]'),
      /advisory\.aliases must be a list of strings/,
    ],
    ['no title anywhere', PATH, replace('# Buffer overflow in SmallVec::insert_many', 'Buffer overflow'), /no title/],
    [
      'a url that is not http(s)',
      PATH,
      replace('https://example.com/smallvec/issues/1', 'javascript:alert(1)'),
      /advisory\.url .* is not an http\(s\) URL/,
    ],
    [
      'an empty informational',
      PATH,
      replace('[affected]', '[affected]').replace('cvss =', 'informational = ""\ncvss ='),
      /advisory\.informational is empty/,
    ],
    ['an oversized file', PATH, GOOD + 'x'.repeat(300 * 1024), /larger than/],
  ];
  for (const [what, path, text, message] of MALFORMED) {
    it(`refuses ${what}, naming the path`, () => {
      const fault = faultOf(path, text);
      assert.ok(fault.startsWith(`${path}: `), fault);
      assert.match(fault, message);
    });
  }
});
