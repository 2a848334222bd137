// A crate page is rendered on every view, so its tables are bounded: a crate with more versions,
// dependencies or features than any real one gets the first ones listed and a line saying how many
// are left out, instead of a page whose cost grows with whatever its publisher chose. Text fields
// (a publish body may carry 10 MB of them) are cut, on the crate page and in search results.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_ENABLES_SHOWN, MAX_FEATURES_SHOWN, MAX_TEXT_SHOWN, MAX_VERSIONS_SHOWN } from '../../src/http/pages/crate-page.js';
import { MAX_DEPENDENCIES_SHOWN } from '../../src/services/crate-pages.js';
import { indexDependency, newVersion } from '../contract/repository-fixtures.js';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';
import { signInWithToken, type PageSession } from '../support/web-session.js';

const rows = (body: string, tableId: string) => {
  const table = new RegExp(`<table id="${tableId}">[\\s\\S]*?</table>`).exec(body)?.[0] ?? '';
  return table.split('<tr').length - 2; // minus the text before the first row and the header row
};

describe('crate page bounds', () => {
  let r: TestRegistry;
  let page: PageSession;
  let publisherId: number;

  before(async () => {
    r = await startTestRegistry();
    page = await signInWithToken(r, r.adminToken);
    publisherId = (await r.registry.metadata.users.createUser('publisher', false)).id;
  });
  after(() => r.close());

  it('lists the newest versions, and the selected one wherever it is', async () => {
    const total = MAX_VERSIONS_SHOWN + 50;
    for (let i = 0; i < total; i++) await r.registry.metadata.crates.publishVersion(newVersion('many-versions', `1.0.${i}`, publisherId));
    const body = (await page.get('/crates/many-versions')).body;
    assert.equal(rows(body, 'versions'), MAX_VERSIONS_SHOWN);
    assert.match(body, /<a href="\/crates\/many-versions\/1\.0\.149" aria-current="page">1\.0\.149<\/a>/);
    assert.match(
      body,
      /<p class="muted" id="versions-omitted">50 older versions are not listed; open one at <code>\/crates\/many-versions\/VERSION<\/code>\.<\/p>/,
    );
    const old = (await page.get('/crates/many-versions/1.0.3')).body;
    assert.equal(rows(old, 'versions'), MAX_VERSIONS_SHOWN + 1);
    assert.match(old, /<a href="\/crates\/many-versions\/1\.0\.3" aria-current="page">1\.0\.3<\/a>/);
    assert.match(old, /49 older versions are not listed/);
  });

  it('lists the first dependencies and features, and says how many more there are', async () => {
    const row = newVersion('wide', '1.0.0', publisherId);
    row.entry.deps = Array.from({ length: MAX_DEPENDENCIES_SHOWN + 100 }, (_, i) => indexDependency(`dep-${String(i).padStart(4, '0')}`));
    row.entry.features = Object.fromEntries(
      Array.from({ length: MAX_FEATURES_SHOWN + 200 }, (_, i) => [`f${String(i).padStart(4, '0')}`, []]),
    );
    row.entry.features.f0000 = Array.from({ length: MAX_ENABLES_SHOWN + 10 }, (_, i) => `dep-${String(i).padStart(4, '0')}`);
    await r.registry.metadata.crates.publishVersion(row);
    const body = (await page.get('/crates/wide')).body;
    assert.equal(body.split('<td><code>^1</code></td>').length - 1, MAX_DEPENDENCIES_SHOWN);
    assert.match(body, /<p class="muted" id="dependencies-omitted">The first 500 of 600 dependencies are listed\.<\/p>/);
    assert.equal(body.match(/<tr><td><code>f\d{4}<\/code><\/td>/g)?.length, MAX_FEATURES_SHOWN);
    assert.match(body, /<p class="muted" id="features-omitted">The first 1,000 of 1,200 features are listed\.<\/p>/);
    assert.match(body, /<td><code>f0000<\/code><\/td><td>dep-0000, [^<]*dep-0019 <span class="muted">and 10 more<\/span><\/td>/);
    assert.doesNotMatch(body, /dep-0020, /);
  });

  it('cuts what a publisher wrote, on the crate page and in search results', async () => {
    const huge = (letter: string) => letter.repeat(1_000_000);
    const row = newVersion('verbose', '1.0.0', publisherId, { description: huge('d') });
    row.details = {
      ...row.details,
      license: huge('l'),
      keywords: Array.from({ length: 1000 }, (_, i) => `k${i}`),
      homepage: `https://example.com/${huge('h')}`,
    };
    row.entry.deps = [{ ...indexDependency('verbose-dep'), req: huge('r') }];
    await r.registry.metadata.crates.publishVersion(row);
    const body = (await page.get('/crates/verbose')).body;
    assert.ok(body.length < 100_000, `${body.length} characters`);
    assert.match(body, new RegExp(`<p id="description">d{${MAX_TEXT_SHOWN}}…</p>`));
    assert.match(body, /<dd id="license">l{200}…<\/dd>/);
    assert.match(body, /<dd>k0, k1, [^<]*k19, …<\/dd>/);
    assert.match(body, /<td><code>r{200}…<\/code><\/td>/);
    assert.match(body, /<dt>Homepage<\/dt><dd>https:\/\/example\.com\/h+…<\/dd>/);
    const results = (await page.get('/search?q=verbose')).body;
    assert.ok(results.length < 20_000, `${results.length} characters`);
    assert.match(results, /<br>d{500}…<\/li>/);
  });
});
