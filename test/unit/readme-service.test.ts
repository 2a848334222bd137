// ReadmeService against real .crate files in a filesystem blob store and a SQLite metadata store:
// which README it picks, what it does with none or a broken archive, and that its cache spares the
// blob store.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { FsBlobStore } from '../../src/adapters/blob/fs-store.js';
import { openSqliteDatabase } from '../../src/adapters/metadata/sqlite.js';
import type { BlobStore } from '../../src/ports/blob-store.js';
import type { MetadataDatabase } from '../../src/ports/metadata-database.js';
import { CpuPool } from '../../src/services/cpu-pool.js';
import { RegistryError } from '../../src/domain/errors.js';
import { MAX_README_NESTING } from '../../src/workers/readme-markdown.js';
import { ReadmeService } from '../../src/services/readme.js';
import { newVersion } from '../contract/repository-fixtures.js';
import { makeCrate, makeTar, manifestFor, type TarEntrySpec } from '../support/crate-fixture.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

/** A blob store that counts how often a blob is opened. */
class CountingBlobStore implements BlobStore {
  opens = 0;
  constructor(private readonly inner: BlobStore) {}
  put(key: string, bytes: Buffer) {
    return this.inner.put(key, bytes);
  }
  open(key: string) {
    this.opens++;
    return this.inner.open(key);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  close() {
    return this.inner.close();
  }
}

describe('ReadmeService', () => {
  let store: MetadataDatabase;
  let blobs: CountingBlobStore;
  let publisherId: number;
  const dir = makeTempDir('cratekeeper-readme-');
  const cpu = new CpuPool({ threads: 1, maxQueue: 16, maxHeapMb: 256 });

  before(async () => {
    store = await openSqliteDatabase(join(dir, 'metadata.sqlite'));
    blobs = new CountingBlobStore(new FsBlobStore(join(dir, 'blobs')));
    publisherId = (await store.users.createUser('alice', false)).id;
  });
  after(async () => {
    await cpu.close();
    await store.close();
    await blobs.close();
  });

  /** Publishes `name`@`version` with exactly these bytes as its .crate. */
  async function publish(name: string, version: string, bytes: Buffer): Promise<void> {
    const row = newVersion(name, version, publisherId);
    await blobs.put(row.blobKey, bytes);
    await store.crates.publishVersion(row);
  }

  /** A .crate whose Cargo.toml has `manifestExtra` in [package], with files in this order. */
  async function crateWith(
    name: string,
    version: string,
    manifestExtra: string,
    files: TarEntrySpec[],
    manifestFirst = true,
  ): Promise<Buffer> {
    const manifest = { name: `${name}-${version}/Cargo.toml`, body: manifestFor(name, version) + manifestExtra };
    const entries = files.map((f) => ({ ...f, name: `${name}-${version}/${f.name}` }));
    return gzipSync(await makeTar(manifestFirst ? [manifest, ...entries] : [...entries, manifest]));
  }

  const service = () => new ReadmeService(store.crates, blobs, cpu, 1024 * 1024);

  it('renders the README that Cargo.toml names, in a subfolder, with links into the repository', async () => {
    await publish(
      'named',
      '1.0.0',
      await crateWith('named', '1.0.0', 'readme = "docs/README.md"\n', [
        { name: 'README.md', body: '# Wrong one\n' },
        { name: 'docs/README.md', body: '# Named\n\nSee [the guide](guide.md) and ![logo](logo.png).\n' },
      ]),
    );
    const html = await service().readmeHtml('named', '1.0.0', 'https://github.com/owner/named');
    assert.ok(html);
    assert.match(html, /<h1 id="user-content-named">Named<\/h1>/);
    assert.doesNotMatch(html, /Wrong one/);
    assert.match(html, /href="https:\/\/github\.com\/owner\/named\/blob\/HEAD\/docs\/guide\.md"/);
    assert.match(html, /src="https:\/\/github\.com\/owner\/named\/raw\/HEAD\/docs\/logo\.png"/);
  });

  it('finds the named README even when the archive lists it before Cargo.toml', async () => {
    await publish(
      'late-manifest',
      '1.0.0',
      await crateWith('late-manifest', '1.0.0', 'readme = "intro.md"\n', [{ name: 'intro.md', body: '# Intro first\n' }], false),
    );
    assert.match((await service().readmeHtml('late-manifest', '1.0.0', null)) ?? '', /Intro first/);
  });

  it('falls back to a default name at the package root, in cargo order', async () => {
    await publish(
      'plain',
      '1.0.0',
      await makeCrate('plain', '1.0.0', [
        { name: 'plain-1.0.0/README.txt', body: 'text readme' },
        { name: 'plain-1.0.0/README.md', body: '# Plain\n\n*markdown*' },
      ]),
    );
    const html = await service().readmeHtml('plain', '1.0.0', null);
    assert.match(html ?? '', /<h1 id="user-content-plain">Plain<\/h1>\n<p><em>markdown<\/em><\/p>/);

    await publish('textual', '1.0.0', await makeCrate('textual', '1.0.0', [{ name: 'textual-1.0.0/README', body: '# not a heading <b>' }]));
    assert.equal(await service().readmeHtml('textual', '1.0.0', null), '<pre class="readme-text"># not a heading &lt;b&gt;</pre>');
  });

  it('reads the exact-case package folder of a crate found by its lower-case name', async () => {
    const bytes = await makeCrate('MixedCase', '1.0.0', [{ name: 'MixedCase-1.0.0/README.md', body: '# Mixed\n' }]);
    await publish('MixedCase', '1.0.0', bytes);
    assert.match((await service().readmeHtml('mixedcase', '1.0.0', null)) ?? '', /Mixed/);
  });

  it('resolves links at the crate folder in its repository (path_in_vcs), and a README from outside the package at its real place', async () => {
    await publish(
      'member',
      '1.0.0',
      await crateWith('member', '1.0.0', 'readme = "README.md"\n', [
        { name: '.cargo_vcs_info.json', body: '{"git":{"sha1":"abc"},"path_in_vcs":"crates/member"}' },
        { name: 'Cargo.toml.orig', body: '[package]\nname = "member"\nreadme = "../../README.md"\n' },
        { name: 'README.md', body: '[guide](docs/guide.md)' },
      ]),
    );
    const html = await service().readmeHtml('member', '1.0.0', 'https://gitlab.com/group/project');
    assert.match(html ?? '', /href="https:\/\/gitlab\.com\/group\/project\/-\/blob\/HEAD\/docs\/guide\.md"/);

    await publish(
      'member2',
      '1.0.0',
      await crateWith('member2', '1.0.0', 'readme = "README.md"\n', [
        { name: '.cargo_vcs_info.json', body: '{"path_in_vcs":"crates/member2"}' },
        { name: 'README.md', body: '[guide](docs/guide.md)' },
      ]),
    );
    const inFolder = await service().readmeHtml('member2', '1.0.0', 'https://gitlab.com/group/project');
    assert.match(inFolder ?? '', /href="https:\/\/gitlab\.com\/group\/project\/-\/blob\/HEAD\/crates\/member2\/docs\/guide\.md"/);
  });

  it('has no README when Cargo.toml says readme = false, or when there is none', async () => {
    await publish(
      'opted-out',
      '1.0.0',
      await crateWith('opted-out', '1.0.0', 'readme = false\n', [{ name: 'README.md', body: '# Present\n' }]),
    );
    assert.equal(await service().readmeHtml('opted-out', '1.0.0', null), undefined);
    await publish('bare', '1.0.0', await makeCrate('bare', '1.0.0'));
    assert.equal(await service().readmeHtml('bare', '1.0.0', null), undefined);
    assert.equal(await service().readmeHtml('no-such-crate', '1.0.0', null), undefined);
    assert.equal(await service().readmeHtml('bare', '9.9.9', null), undefined);
  });

  it('gives undefined, without throwing, for a corrupt, truncated or missing archive', async () => {
    const good = await makeCrate('broken', '1.0.0', [{ name: 'broken-1.0.0/README.md', body: '# x\n'.repeat(5000) }]);
    await publish('broken', '1.0.0', Buffer.from('not a gzip file at all'));
    await publish('broken', '1.0.1', good.subarray(0, good.length - 40));
    await publish('broken', '1.0.2', gzipSync(Buffer.from('x'.repeat(4096))));
    for (const version of ['1.0.0', '1.0.1', '1.0.2']) {
      assert.equal(await service().readmeHtml('broken', version, null), undefined, version);
    }
    await store.crates.publishVersion(newVersion('broken', '1.0.3', publisherId)); // no blob stored
    assert.equal(await service().readmeHtml('broken', '1.0.3', null), undefined);
  });

  it('cuts a README beyond the size limit, with a note', async () => {
    await publish('long', '1.0.0', await makeCrate('long', '1.0.0', [{ name: 'long-1.0.0/README.md', body: 'é'.repeat(3000) + 'END' }]));
    const limited = new ReadmeService(store.crates, blobs, cpu, 1024 * 1024, { maxReadmeBytes: 2049, maxUnpackedBytes: 1024 * 1024 });
    const html = (await limited.readmeHtml('long', '1.0.0', null)) ?? '';
    assert.match(
      html,
      /^<p>(é){1024}<\/p>\n<p class="readme-truncated"><em>This README is longer than 2 KiB; only its beginning is shown.<\/em><\/p>$/,
    );
    assert.match((await service().readmeHtml('long', '1.0.0', null)) ?? '', /END/);
  });

  it('caches rendered READMEs, and "no README", without reading the blob again', async () => {
    await publish('cached', '1.0.0', await makeCrate('cached', '1.0.0', [{ name: 'cached-1.0.0/README.md', body: '# Cached\n' }]));
    const readmes = service();
    const opensBefore = blobs.opens;
    const [first, concurrent] = await Promise.all([
      readmes.readmeHtml('cached', '1.0.0', null),
      readmes.readmeHtml('cached', '1.0.0', null),
    ]);
    assert.equal(blobs.opens, opensBefore + 1);
    assert.match(first ?? '', /Cached/);
    assert.equal(concurrent, first);
    assert.equal(await readmes.readmeHtml('cached', '1.0.0', null), first);
    assert.equal(blobs.opens, opensBefore + 1);

    await readmes.readmeHtml('bare', '1.0.0', null);
    await readmes.readmeHtml('bare', '1.0.0', null);
    assert.equal(blobs.opens, opensBefore + 2);

    // The repository URL changes the links, so it is part of the key.
    const linked = await readmes.readmeHtml('cached', '1.0.0', 'https://github.com/o/cached');
    assert.equal(blobs.opens, opensBefore + 3);
    assert.equal(linked, first);
  });

  it('parses the manifest and renders on worker threads, once: a second view is a cache hit', async () => {
    await publish(
      'pooled',
      '1.0.0',
      await crateWith('pooled', '1.0.0', 'readme = "docs/intro.md"\n', [{ name: 'docs/intro.md', body: '# Pooled\n' }]),
    );
    const readmes = service();
    const before = cpu.completed;
    assert.match((await readmes.readmeHtml('pooled', '1.0.0', null)) ?? '', /<h1 id="user-content-pooled">Pooled<\/h1>/);
    assert.equal(cpu.completed, before + 2, 'one task read Cargo.toml, one rendered');
    assert.match((await readmes.readmeHtml('pooled', '1.0.0', null)) ?? '', /Pooled/);
    assert.equal(cpu.completed, before + 2);
  });

  it('shows a README nested deeper than the limit as plain text with a note, not an error', { timeout: 60_000 }, async () => {
    await publish('deep', '1.0.0', await makeCrate('deep', '1.0.0', [{ name: 'deep-1.0.0/README.md', body: '<div>'.repeat(200_000) }]));
    const html = (await service().readmeHtml('deep', '1.0.0', null)) ?? '';
    // (assert.ok, not match: a failure would print the megabyte)
    const note = `<p class="readme-note"><em>This README nests HTML elements more than ${MAX_README_NESTING} levels deep, which this registry does not render; it is shown as plain text.</em></p>`;
    assert.ok(html.startsWith(note), html.slice(0, 300));
    // 200,000 tags are 1,000,000 bytes: the README is also cut at the size limit (within a tag), and says so.
    const text = html.slice(note.length);
    assert.ok(
      /^<pre class="readme-text">(&lt;div&gt;){104857}&lt;di<\/pre><p class="readme-truncated">/.test(text),
      text.slice(0, 100) + '…' + text.slice(-200),
    );
    assert.ok(
      html.endsWith('<p class="readme-truncated"><em>This README is longer than 512 KiB; only its beginning is shown.</em></p>'),
      html.slice(-200),
    );
  });

  it('ignores a Cargo.toml beyond the manifest limit without parsing it', async () => {
    const padding = `# ${'x'.repeat(4096)}\n`;
    await publish(
      'huge-manifest',
      '1.0.0',
      await crateWith('huge-manifest', '1.0.0', `readme = "named.md"\n${padding}`, [
        { name: 'named.md', body: '# Named\n' },
        { name: 'README.md', body: '# Default\n' },
      ]),
    );
    const small = new ReadmeService(store.crates, blobs, cpu, 1024 * 1024, { maxManifestBytes: 1024 });
    const before = cpu.completed;
    assert.match((await small.readmeHtml('huge-manifest', '1.0.0', null)) ?? '', /Default/);
    assert.equal(cpu.completed, before + 1, 'only the render ran on the pool');
    assert.match((await service().readmeHtml('huge-manifest', '1.0.0', null)) ?? '', /Named/);
  });

  /** The real pool, except that task `failing` fails with `failure` (given the caller's options). */
  const failingRender = (failure: (options: { onTimeout: () => RegistryError }) => RegistryError, failing = 'renderReadme') => {
    const calls = { render: 0 };
    const pool = {
      run: (name: string, arg: never, options: { timeoutMs: number; onTimeout: () => RegistryError }) => {
        if (name !== failing) return cpu.run(name as 'readmeField', arg, options);
        calls.render++;
        return Promise.reject(failure(options));
      },
    } as unknown as CpuPool;
    return { pool, calls };
  };

  it('shows a README that ran out of time as plain text with a note, and keeps that answer', async () => {
    await publish('slow', '1.0.0', await makeCrate('slow', '1.0.0', [{ name: 'slow-1.0.0/README.md', body: '# Slow <b>bold</b>\n' }]));
    const { pool, calls } = failingRender((options) => options.onTimeout());
    const readmes = new ReadmeService(store.crates, blobs, pool, 1024 * 1024, { renderTimeoutMs: 2_000 });
    const html = await readmes.readmeHtml('slow', '1.0.0', null);
    assert.equal(
      html,
      '<p class="readme-note"><em>This README took longer than 2 s to render, so it is shown as plain text.</em></p>' +
        '<pre class="readme-text"># Slow &lt;b&gt;bold&lt;/b&gt;\n</pre>',
    );
    assert.equal(await readmes.readmeHtml('slow', '1.0.0', null), html);
    assert.equal(calls.render, 1, 'the second view is answered from the cache');
  });

  it('says so when Cargo.toml ran out of time, and keeps that answer', async () => {
    await publish(
      'slow-manifest',
      '1.0.0',
      await makeCrate('slow-manifest', '1.0.0', [{ name: 'slow-manifest-1.0.0/README.md', body: '# Hidden\n' }]),
    );
    const { pool, calls } = failingRender((options) => options.onTimeout(), 'readmeField');
    const readmes = new ReadmeService(store.crates, blobs, pool, 1024 * 1024, { renderTimeoutMs: 3_000 });
    const html = await readmes.readmeHtml('slow-manifest', '1.0.0', null);
    assert.equal(
      html,
      `<p class="readme-note"><em>This version's Cargo.toml took longer than 3 s to read, so its README is not shown.</em></p>`,
    );
    assert.equal(await readmes.readmeHtml('slow-manifest', '1.0.0', null), html);
    assert.equal(calls.render, 1);
  });

  it('says so when the pool is too busy, and renders on the next view', async () => {
    await publish('busy', '1.0.0', await makeCrate('busy', '1.0.0', [{ name: 'busy-1.0.0/README.md', body: '# Busy\n' }]));
    const { pool, calls } = failingRender(() => new RegistryError('unavailable', 'server-busy', 'busy', { retryAfterSeconds: 5 }));
    const readmes = new ReadmeService(store.crates, blobs, pool, 1024 * 1024);
    assert.match(
      (await readmes.readmeHtml('busy', '1.0.0', null)) ?? '',
      /^<p class="readme-note"><em>The server is too busy to render this README now/,
    );
    await readmes.readmeHtml('busy', '1.0.0', null);
    assert.equal(calls.render, 2, 'a refusal is not cached');
  });
});
