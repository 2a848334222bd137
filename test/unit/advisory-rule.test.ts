import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Advisory } from '../../src/domain/advisory-file.js';
import { AdvisoryRule } from '../../src/policy/advisory-rule.js';
import type { PolicySettings, SourcePolicy } from '../../src/policy/policy-settings.js';
import type { PolicySource } from '../../src/policy/version-rule.js';
import type { Advisories } from '../../src/ports/advisories.js';
import { advisory } from '../contract/advisories.contract.js';

const CRATES_IO: PolicySource = { kind: 'upstream', upstream: 'crates-io' };
const LOCAL: PolicySource = { kind: 'local' };

function fakeAdvisories(bySource: Record<string, Advisory[]>) {
  const store = {
    syncId: 1,
    queries: 0,
    forCrate: (source: string, crate: string) => {
      store.queries++;
      return Promise.resolve((bySource[source] ?? []).filter((a) => a.package.toLowerCase() === crate.toLowerCase()));
    },
    latestSyncId: () => Promise.resolve(store.syncId),
  };
  return store;
}

function ruleWith(policy: SourcePolicy, bySource: Record<string, Advisory[]>, forSource = 'upstream:crates-io') {
  const settings: PolicySettings = {
    get: (source) => ((source.kind === 'local' ? 'local' : `upstream:${source.upstream}`) === forSource ? policy : {}),
    revision: () => 's1',
  };
  const store = fakeAdvisories(bySource);
  return { rule: new AdvisoryRule(settings, store as unknown as Advisories), store };
}

const versions = (...vers: string[]) => vers.map((v) => ({ name: 'smallvec', vers: v, yanked: false }));
const SMALLVEC = [
  advisory('RUSTSEC-2026-0001', 'smallvec', {
    title: 'Buffer overflow',
    patched: ['>= 1.6.1'],
    unaffected: ['< 1.0.0'],
    cvss: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
    cvssScore: 9.8,
    url: 'https://example.com/1',
  }),
  advisory('RUSTSEC-2026-0002', 'smallvec', { title: 'Withdrawn', patched: [], withdrawn: '2026-02-01' }),
  advisory('RUSTSEC-2026-0003', 'smallvec', { title: 'Unsound', patched: ['>= 1.7.0'], informational: 'unsound' }),
  advisory('RUSTSEC-2026-0004', 'smallvec', {
    title: 'Minor leak',
    patched: ['>= 1.5.0'],
    cvssScore: 5.9,
    cvss: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N',
  }),
];

const summary = (findings: Map<string, { effect: string; facts?: Record<string, string> }[]>) =>
  Object.fromEntries([...findings].map(([v, list]) => [v, list.map((f) => `${f.facts?.advisory}:${f.effect}`)]));

describe('advisory rule', () => {
  it('denies affected versions with the advisory id and title, and leaves patched, unaffected and withdrawn alone', async () => {
    const { rule } = ruleWith({ advisories: 'deny' }, { 'upstream:crates-io': SMALLVEC });
    const findings = await rule.review(CRATES_IO, 'smallvec', versions('0.9.0', '1.4.0', '1.6.0', '1.6.1', '1.7.0'));
    assert.deepEqual(summary(findings), {
      '0.9.0': ['RUSTSEC-2026-0004:deny'],
      '1.4.0': ['RUSTSEC-2026-0001:deny', 'RUSTSEC-2026-0004:deny'],
      '1.6.0': ['RUSTSEC-2026-0001:deny'],
    });
    const first = findings.get('1.6.0')![0]!;
    assert.equal(first.rule, 'advisory');
    assert.equal(first.detail, 'smallvec@1.6.0 is affected by RUSTSEC-2026-0001 (Buffer overflow)');
    assert.deepEqual(first.facts, {
      advisory: 'RUSTSEC-2026-0001',
      title: 'Buffer overflow',
      url: 'https://example.com/1',
      cvss: '9.8',
      patched: '>= 1.6.1',
    });
  });

  it('warns instead under `warn`, and does nothing (not even a query) under `off` or by default', async () => {
    const warn = ruleWith({ advisories: 'warn' }, { 'upstream:crates-io': SMALLVEC }).rule;
    assert.deepEqual(summary(await warn.review(CRATES_IO, 'smallvec', versions('1.6.0'))), { '1.6.0': ['RUSTSEC-2026-0001:warn'] });
    for (const policy of [{ advisories: 'off' as const }, {}]) {
      const { rule, store } = ruleWith(policy, { 'upstream:crates-io': SMALLVEC });
      assert.equal((await rule.review(CRATES_IO, 'smallvec', versions('1.6.0'))).size, 0);
      // Said at once, not as a promise: the engine then keeps no review of the crate.
      assert.equal(rule.mayApply(CRATES_IO, 'smallvec'), false);
      assert.equal(store.queries, 0);
    }
    assert.equal(await ruleWith({ advisories: 'warn' }, { 'upstream:crates-io': SMALLVEC }).rule.mayApply(CRATES_IO, 'smallvec'), true);
    assert.equal(await ruleWith({ advisories: 'warn' }, { 'upstream:crates-io': SMALLVEC }).rule.mayApply(CRATES_IO, 'serde'), false);
  });

  it('counts informational advisories only when asked to', async () => {
    const { rule } = ruleWith({ advisories: 'deny', advisories_informational: true }, { 'upstream:crates-io': SMALLVEC });
    assert.deepEqual(summary(await rule.review(CRATES_IO, 'smallvec', versions('1.6.5'))), { '1.6.5': ['RUSTSEC-2026-0003:deny'] });
  });

  it('under a minimum CVSS, denies only advisories scored at or above it; the others, and those without a vector, warn', async () => {
    const { rule } = ruleWith(
      { advisories: 'deny', advisories_min_cvss: 7, advisories_informational: true },
      { 'upstream:crates-io': SMALLVEC },
    );
    const findings = await rule.review(CRATES_IO, 'smallvec', versions('1.4.0'));
    assert.deepEqual(summary(findings), { '1.4.0': ['RUSTSEC-2026-0001:deny', 'RUSTSEC-2026-0003:warn', 'RUSTSEC-2026-0004:warn'] });
    assert.equal(findings.get('1.4.0')![2]!.facts?.below_min_cvss, '7');
  });

  it('applies a minimum CVSS to CVSS 4.0 advisories by their score, and treats an unscored vector as severe enough', async () => {
    const cvss4 = (id: string, score: number, cvss: string, patched: string) =>
      advisory(id, 'smallvec', { title: `v4 ${score}`, patched: [patched], cvss, cvssScore: score });
    const list = [
      // RUSTSEC-2026-0073's vector: 8.7
      cvss4('RUSTSEC-2026-0087', 8.7, 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N', '>= 2.0.0'),
      cvss4('RUSTSEC-2026-0069', 6.9, 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N', '>= 2.0.0'),
      // A vector nobody can score (kept by the sync, without a score).
      advisory('RUSTSEC-2026-0099', 'smallvec', { title: 'odd vector', patched: ['>= 2.0.0'], cvss: 'CVSS:5.0/AV:N' }),
      // No vector at all: unrated, warns under a minimum as before.
      advisory('RUSTSEC-2026-0098', 'smallvec', { title: 'unrated', patched: ['>= 2.0.0'] }),
    ];
    const { rule } = ruleWith({ advisories: 'deny', advisories_min_cvss: 7 }, { 'upstream:crates-io': list });
    const findings = await rule.review(CRATES_IO, 'smallvec', versions('1.0.0'));
    assert.deepEqual(summary(findings), {
      '1.0.0': ['RUSTSEC-2026-0087:deny', 'RUSTSEC-2026-0069:warn', 'RUSTSEC-2026-0099:deny', 'RUSTSEC-2026-0098:warn'],
    });
    const [high, low, unscored] = findings.get('1.0.0')!;
    assert.equal(high!.facts?.cvss, '8.7');
    assert.equal(low!.facts?.below_min_cvss, '7');
    assert.equal(unscored!.facts?.cvss_unscored, 'CVSS:5.0/AV:N');
    assert.equal(unscored!.facts?.cvss, undefined);
  });

  it("applies an upstream's advisories only to that upstream's crates", async () => {
    const { rule } = ruleWith({ advisories: 'deny' }, { 'upstream:crates-io': SMALLVEC }, 'local');
    assert.equal((await rule.review(LOCAL, 'smallvec', versions('1.6.0'))).size, 0);
    const both = ruleWith({ advisories: 'deny' }, { 'upstream:crates-io': SMALLVEC });
    assert.equal((await both.rule.review({ kind: 'upstream', upstream: 'other' }, 'smallvec', versions('1.6.0'))).size, 0);
  });

  it('changes its revision after a sync, and reads the new advisories then', async () => {
    const bySource: Record<string, Advisory[]> = { 'upstream:crates-io': [] };
    const { rule, store } = ruleWith({ advisories: 'deny' }, bySource);
    await rule.load();
    const before = rule.revision();
    assert.equal((await rule.review(CRATES_IO, 'smallvec', versions('1.6.0'))).size, 0);
    bySource['upstream:crates-io'] = SMALLVEC;
    await rule.load();
    assert.equal(rule.revision(), before, 'no sync, no change');
    assert.equal((await rule.review(CRATES_IO, 'smallvec', versions('1.6.0'))).size, 0, 'cached until a sync');
    store.syncId = 2;
    await rule.load();
    assert.notEqual(rule.revision(), before);
    assert.deepEqual(summary(await rule.review(CRATES_IO, 'smallvec', versions('1.6.0'))), { '1.6.0': ['RUSTSEC-2026-0001:deny'] });
  });
});
