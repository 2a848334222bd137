// The policy engine with fake rules: denied versions are marked yanked in the index file (the other
// lines stay byte for byte), the filtered file's ETag changes exactly when the left-out set does, a file with
// nothing denied is served as the same object, results are cached until the file, a rule's revision
// or a finding's `until` changes, and downloads of denied versions are refused and counted per rule.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import type { IndexFile } from '../../src/domain/index-file.js';
import { PolicyEngine, refusalMessage } from '../../src/policy/policy-engine.js';
import type { PolicyFinding, PolicyRule, PolicyRuleName, PolicySource, VersionUnderReview } from '../../src/policy/version-rule.js';

const LOCAL: PolicySource = { kind: 'local' };

/** V8's collector, for tests that check what is no longer referenced; resolves after a full collection. */
function collector(): () => Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return async () => {
    // WeakRefs are cleared only after the current job: collect, yield, collect again.
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  };
}
const line = (vers: string, extra = '') => `{"name":"demo","vers":"${vers}","deps":[],"cksum":"00","features":{},"yanked":false${extra}}\n`;
const file = (etag: string, ...versions: string[]): IndexFile => ({ body: Buffer.from(versions.map((v) => line(v)).join('')), etag });

/** A rule that denies (or warns about) the versions in `verdicts`, counting how often it is asked. */
class FakeRule implements PolicyRule {
  calls = 0;
  rev = 'r1';
  seen: VersionUnderReview[] = [];
  constructor(
    readonly name: PolicyRuleName,
    public verdicts: Map<string, Omit<PolicyFinding, 'rule' | 'detail'>> = new Map(),
  ) {}
  /** Which crates the rule says it may find something for (all by default). */
  appliesTo: (crate: string) => boolean = () => true;
  revision(): string {
    return this.rev;
  }
  mayApply(_source: PolicySource, crate: string): boolean | Promise<boolean> {
    return this.appliesTo(crate);
  }
  review(_source: PolicySource, _crate: string, versions: readonly VersionUnderReview[]): Promise<Map<string, PolicyFinding[]>> {
    this.calls++;
    this.seen = [...versions];
    const out = new Map<string, PolicyFinding[]>();
    for (const v of versions) {
      const verdict = this.verdicts.get(v.vers);
      if (verdict) out.set(v.vers, [{ rule: this.name, detail: `${v.name}@${v.vers} by ${this.name}`, ...verdict }]);
    }
    return Promise.resolve(out);
  }
}

describe('PolicyEngine', () => {
  it('serves the file itself when nothing is denied, from the cache after the first review', async () => {
    const rule = new FakeRule('hold', new Map([['1.0.0', { effect: 'warn' as const }]]));
    const engine = new PolicyEngine([rule], () => 0);
    const original = file('"a"', '1.0.0', '1.1.0');
    assert.equal(await engine.filter(LOCAL, 'demo', original), original);
    const second = engine.filter(LOCAL, 'demo', original);
    assert.equal(second, original, 'a cached answer is synchronous and the same object');
    assert.equal(rule.calls, 1);
    assert.deepEqual(
      rule.seen.map((v) => v.vers),
      ['1.0.0', '1.1.0'],
    );
  });

  it('keeps neither the files it reviewed nor, past its budget, the filtered copies it made', async () => {
    // The index cache decides how long a file lives; an engine that kept every file it reviewed
    // (it did: 50,000 of them) held 1.4 GB after 50,000 different index files were read.
    const gc = collector();
    const rule = new FakeRule('hold', new Map([['1.0.0', { effect: 'deny' as const }]]));
    const engine = new PolicyEngine([rule], () => 0);
    /** A 1 MiB file of `crate`, reviewed; weak references to it and to what was served. */
    async function serve(crate: string, versions: string[]): Promise<{ file: WeakRef<object>; served: WeakRef<object> }> {
      const pad = `,"pad":"${'x'.repeat(1024 * 1024)}"`;
      const big = { body: Buffer.from(versions.map((v) => line(v, pad)).join('')), etag: `"${crate}"` };
      const out = await engine.filter(LOCAL, crate, big);
      assert.equal(out === big, !versions.includes('1.0.0'));
      return { file: new WeakRef(big), served: new WeakRef(out) };
    }
    const clean = [];
    const filtered = [];
    for (let i = 0; i < 40; i++) clean.push(await serve(`clean-${i}`, ['1.1.0']));
    // 40 filtered copies of 2 MiB are more than the engine may keep (8 MiB).
    for (let i = 0; i < 40; i++) filtered.push(await serve(`denied-${i}`, ['1.0.0', '1.1.0']));
    await gc();
    const alive = (refs: WeakRef<object>[]) => refs.filter((r) => r.deref() !== undefined).length;
    assert.equal(alive(clean.map((r) => r.file)), 0, 'files served as they are were kept');
    assert.equal(alive(filtered.map((r) => r.file)), 0, 'files with a filtered copy were kept');
    const copies = alive(filtered.map((r) => r.served));
    assert.ok(copies > 0 && copies <= 4, `${copies} filtered copies of 2 MiB kept`);
    // What it forgot it reviews again.
    const calls = rule.calls;
    await serve('denied-0', ['1.0.0', '1.1.0']);
    assert.equal(rule.calls, calls + 1);
  });

  it('answers at once and keeps no review for a crate every rule says at once it may not apply to', async () => {
    // Under the default policy every cold read of a local crate is such a crate: keeping a review
    // of each filled the cache with entries that save nothing, and cost a promise and an entry a read.
    const hold = new FakeRule('hold', new Map([['1.0.0', { effect: 'deny' as const }]]));
    hold.appliesTo = (crate) => crate === 'held';
    const engine = new PolicyEngine([hold], () => 0);
    const held = file('"h"', '1.0.0', '1.1.0');
    const filtered = await engine.filter(LOCAL, 'held', held);
    assert.notEqual(filtered, held);
    // More crates than the engine's budget holds reviews of (8 MiB at 300 bytes each: 27,962).
    for (let i = 0; i < 40_000; i++) {
      const free = file(`"f${i}"`, '1.0.0');
      assert.equal(engine.filter(LOCAL, `free-${i}`, free), free, 'served as it is, without a promise');
    }
    assert.equal(engine.filter(LOCAL, 'held', held), filtered, 'the one review kept is still there');
    assert.equal(hold.calls, 1);
    assert.deepEqual(await engine.findings(LOCAL, 'free-1', file('"f1"', '1.0.0')), { findings: new Map(), denied: new Set() });
    assert.equal(await engine.downloadRefusal(LOCAL, 'free-1', '1.0.0', file('"f1"', '1.0.0')), undefined);
  });

  it('asks a rule whose answer is a promise, and keeps the review', async () => {
    const hold = new FakeRule('hold', new Map([['1.0.0', { effect: 'deny' as const }]]));
    hold.mayApply = () => Promise.resolve(true);
    const engine = new PolicyEngine([hold], () => 0);
    const held = file('"h"', '1.0.0', '1.1.0');
    const out = await engine.filter(LOCAL, 'held', held);
    assert.match(out.body!.toString(), /"vers":"1\.0\.0".*"yanked":true/);
    assert.equal(engine.filter(LOCAL, 'held', held), out, 'cached: answered at once');
    assert.equal(hold.calls, 1);
  });

  it('reads no line of a file when no rule may apply to the crate, and asks only the rules that may', async () => {
    const hold = new FakeRule('hold', new Map([['1.0.0', { effect: 'deny' as const }]]));
    const advisory = new FakeRule('advisory', new Map([['1.0.0', { effect: 'deny' as const }]]));
    hold.appliesTo = (crate) => crate === 'held';
    advisory.appliesTo = () => false;
    const engine = new PolicyEngine([hold, advisory], () => 0);
    // Not an index file at all: reading its lines would find no version, and nothing would be asked anyway.
    const unread = { body: Buffer.from('this is never parsed\n'), etag: '"u"' };
    assert.equal(await engine.filter(LOCAL, 'free', unread), unread);
    assert.deepEqual([hold.calls, advisory.calls], [0, 0]);
    const held = file('"h"', '1.0.0', '1.1.0');
    const out = await engine.filter(LOCAL, 'held', held);
    assert.match(out.body!.toString(), /"vers":"1\.0\.0".*"yanked":true/);
    assert.deepEqual([hold.calls, advisory.calls], [1, 0]);
    // A rule that starts to apply (a hold placed) changes its revision, and the next read asks again.
    hold.appliesTo = () => true;
    hold.rev = 'r2';
    assert.notEqual(await engine.filter(LOCAL, 'free', file('"u"', '1.0.0')), unread);
  });

  it('marks denied versions yanked, keeps the other lines byte for byte, and gives the result its own ETag', async () => {
    const rule = new FakeRule('quarantine', new Map([['1.1.0', { effect: 'deny' as const }]]));
    const engine = new PolicyEngine([rule], () => 0);
    const original: IndexFile = {
      body: Buffer.from(line('1.0.0', ',"pubtime":"2026-01-01T00:00:00Z"') + 'not json\n' + line('1.1.0')),
      etag: '"a"',
    };
    const out = await engine.filter(LOCAL, 'demo', original);
    assert.equal(
      out.body!.toString(),
      line('1.0.0', ',"pubtime":"2026-01-01T00:00:00Z"') + 'not json\n' + line('1.1.0').replace('"yanked":false', '"yanked":true'),
    );
    assert.notEqual(out.etag, original.etag);
    assert.match(out.etag, /^"[^"]+"$/);
    assert.equal(rule.seen[0]!.pubtime, '2026-01-01T00:00:00Z');
  });

  it('reviews and filters a file read in its gzip form alone (as cargo reads it), with the ETag of its bytes', async () => {
    const rule = new FakeRule('quarantine', new Map([['1.1.0', { effect: 'deny' as const }]]));
    const engine = new PolicyEngine([rule], () => 0);
    const plain = file('"g"', '1.0.0', '1.1.0');
    const compressed: IndexFile = { gzipped: gzipSync(plain.body!), etag: plain.etag };
    const out = await engine.filter(LOCAL, 'demo', compressed);
    assert.deepEqual(
      rule.seen.map((v) => v.vers),
      ['1.0.0', '1.1.0'],
    );
    assert.equal(out.body!.toString(), line('1.0.0') + line('1.1.0').replace('"yanked":false', '"yanked":true'));
    assert.equal(out.gzipped, undefined, 'the filtered bytes get a gzip form of their own when sent');
    assert.equal(out.etag, (await new PolicyEngine([rule], () => 0).filter(LOCAL, 'demo', plain)).etag, 'as for its bytes');
    assert.deepEqual(
      (await engine.review(LOCAL, 'demo', compressed)).versions.map((v) => v.vers),
      ['1.0.0', '1.1.0'],
    );
  });

  it('changes the ETag when the left-out set changes, and only then', async () => {
    const rule = new FakeRule('hold', new Map([['1.1.0', { effect: 'deny' as const }]]));
    const engine = new PolicyEngine([rule], () => 0);
    const original = file('"a"', '1.0.0', '1.1.0', '1.2.0');
    const first = await engine.filter(LOCAL, 'demo', original);
    rule.rev = 'r2'; // the same answers under a new revision: the same ETag
    const again = await engine.filter(LOCAL, 'demo', original);
    assert.equal(rule.calls, 2);
    assert.equal(again.etag, first.etag);
    rule.verdicts.set('1.2.0', { effect: 'deny' });
    rule.rev = 'r3';
    const more = await engine.filter(LOCAL, 'demo', original);
    assert.notEqual(more.etag, first.etag);
    assert.equal(
      more.body!.toString(),
      line('1.0.0') + [line('1.1.0'), line('1.2.0')].map((l) => l.replace('"yanked":false', '"yanked":true')).join(''),
    );
    rule.verdicts.clear();
    rule.rev = 'r4';
    assert.equal(await engine.filter(LOCAL, 'demo', original), original, 'nothing left out: the original file and ETag');
  });

  it('reviews again when the file changes, and keeps sources apart', async () => {
    const rule = new FakeRule('hold');
    const engine = new PolicyEngine([rule], () => 0);
    await engine.filter(LOCAL, 'demo', file('"a"', '1.0.0'));
    await engine.filter(LOCAL, 'demo', file('"b"', '1.0.0', '1.1.0'));
    await engine.filter({ kind: 'upstream', upstream: 'up' }, 'demo', file('"b"', '1.0.0', '1.1.0'));
    assert.equal(rule.calls, 3);
  });

  it('reviews again once a finding ends by itself (until), and the version comes back with a new ETag', async () => {
    let now = 1_000;
    const rule = new FakeRule('quarantine', new Map([['1.1.0', { effect: 'deny' as const, until: 5_000 }]]));
    const engine = new PolicyEngine([rule], () => now);
    const original = file('"a"', '1.0.0', '1.1.0');
    const held = await engine.filter(LOCAL, 'demo', original);
    now = 4_999;
    assert.equal(await engine.filter(LOCAL, 'demo', original), held);
    assert.equal(rule.calls, 1);
    now = 5_000;
    rule.verdicts.clear(); // the fake's quarantine is over
    const released = await engine.filter(LOCAL, 'demo', original);
    assert.equal(rule.calls, 2);
    assert.equal(released, original);
    assert.notEqual(released.etag, held.etag);
  });

  it('joins the findings of every rule, refuses downloads of denied versions and counts refusals per rule', async () => {
    const hold = new FakeRule('hold', new Map([['1.1.0', { effect: 'deny' as const }]]));
    const advisory = new FakeRule(
      'advisory',
      new Map([
        ['1.1.0', { effect: 'deny' as const }],
        ['1.0.0', { effect: 'warn' as const }],
      ]),
    );
    const engine = new PolicyEngine([hold, advisory], () => 0);
    const original = file('"a"', '1.0.0', '1.1.0');
    assert.equal(await engine.downloadRefusal(LOCAL, 'demo', '1.0.0', original), undefined, 'a warning does not refuse');
    const refusal = await engine.downloadRefusal(LOCAL, 'demo', '1.1.0', original);
    assert.deepEqual(
      refusal?.map((f) => f.rule),
      ['hold', 'advisory'],
    );
    assert.equal(
      refusalMessage('demo', '1.1.0', refusal!),
      "demo@1.1.0 is refused by this registry's supply-chain policy: demo@1.1.0 by hold; demo@1.1.0 by advisory",
    );
    assert.deepEqual(
      [...engine.refusals()],
      [
        ['hold', 1],
        ['advisory', 1],
      ],
    );
    const review = await engine.review(LOCAL, 'demo', original);
    assert.equal(review.findings.get('1.0.0')?.[0]?.effect, 'warn');
    assert.deepEqual([...review.denied], ['1.1.0']);
  });
});
