// Rustdoc hosting over HTTP, in process: uploads from CI (who may, what is refused, and that a
// refused upload changes nothing), the docs served behind tickets in a CSP sandbox, `latest`, a
// reader without access getting the 404 of a crate that does not exist, the crate metadata's
// `documentation`, the owners' build list, and retention.

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { makeTar, type TarEntrySpec } from '../support/crate-fixture.js';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';
import { signInWithToken } from '../support/web-session.js';

const ACCESS = `
[[access.rules]]
crates = ["secret*"]
read = ["alice"]
`;

const docsArchive = async (crate: string, marker: string, extra: TarEntrySpec[] = []) =>
  gzipSync(
    await makeTar([
      { name: `${crate.replaceAll('-', '_')}/index.html`, body: `<html><body>${marker}</body></html>` },
      { name: 'static.files/style.css', body: 'body { color: black }' },
      ...extra,
    ]),
  );

/** Every blob file under the data folder, as relative paths: what an upload stored. */
function blobFiles(dataDir: string): string[] {
  const root = join(dataDir, 'blobs');
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      else out.push(join(dir, entry.name).slice(root.length + 1));
    }
  };
  walk(root);
  return out.sort();
}

describe('rustdoc hosting over HTTP', () => {
  let r: TestRegistry;
  let alice: string;
  let eve: string;

  before(async () => {
    r = await startTestRegistry({ 'docs.keep_versions': '2' }, ACCESS);
    alice = await r.userToken('alice');
    eve = await r.userToken('eve');
    await r.publishAsAdmin('widget', '1.0.0');
    await r.publishAsAdmin('widget', '1.1.0');
    await r.publishAsAdmin('secret-core', '1.0.0');
  });
  after(() => r.close());

  const upload = (crate: string, version: string, body: Buffer, token = r.adminToken) =>
    r.request({
      method: 'PUT',
      url: `/api/v1/crates/${crate}/${version}/docs`,
      token,
      payload: body,
      headers: { 'content-type': 'application/gzip' },
    });

  /** Follows the entry's redirect to the ticket path and returns the file's answer. */
  async function read(path: string, headers: Record<string, string>) {
    const entry = await r.request({ method: 'GET', url: path, headers });
    if (entry.statusCode !== 303 || !String(entry.headers.location).startsWith('/docs/~/')) return { entry, file: undefined };
    let file = await r.request({ method: 'GET', url: String(entry.headers.location) });
    // The root redirects once more, to the crate's own page.
    if (file.statusCode === 303)
      file = await r.request({ method: 'GET', url: new URL(String(file.headers.location), `http://x${entry.headers.location}`).pathname });
    return { entry, file };
  }

  it('takes an upload from an owner and serves it behind a ticket, in a sandbox', async () => {
    const res = await upload('widget', '1.0.0', await docsArchive('widget', 'widget one'));
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(JSON.parse(res.body).url, 'http://registry.test/docs/widget/1.0.0/');
    const { entry, file } = await read('/docs/widget/1.0.0/widget/index.html', { authorization: alice });
    assert.match(String(entry.headers.location), /^\/docs\/~\/\d+\.\d+\.[\w-]{43}\/widget\/1\.0\.0\/widget\/index\.html$/);
    assert.equal(file?.statusCode, 200);
    assert.match(file!.body, /widget one/);
    assert.equal(file!.headers['content-type'], 'text/html; charset=utf-8');
    for (const answer of [entry, file!]) {
      assert.match(String(answer.headers['content-security-policy']), /^sandbox allow-scripts allow-popups;/);
      assert.doesNotMatch(String(answer.headers['content-security-policy']), /allow-same-origin|allow-forms/);
      assert.equal(answer.headers['referrer-policy'], 'no-referrer');
    }
  });

  it('serves the root and CSS through the same ticket, and refuses a forged or foreign ticket', async () => {
    const { file } = await read('/docs/widget/1.0.0/', { authorization: alice });
    assert.equal(file?.statusCode, 200);
    assert.match(file!.body, /widget one/);
    const entry = await r.request({ method: 'GET', url: '/docs/widget/1.0.0/static.files/style.css', token: alice });
    const css = await r.request({ method: 'GET', url: String(entry.headers.location) });
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    const ticket = String(entry.headers.location).split('/')[3]!;
    const forged = ticket.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    const refused = await r.request({ method: 'GET', url: `/docs/~/${forged}/widget/1.0.0/static.files/style.css` });
    assert.equal(refused.statusCode, 303);
    assert.equal(refused.headers.location, '/docs/widget/1.0.0/static.files/style.css');
    // A ticket names its crate and version: it opens no other docs.
    const other = await r.request({ method: 'GET', url: `/docs/~/${ticket}/widget/1.1.0/static.files/style.css` });
    assert.equal(other.statusCode, 303);
  });

  it('resolves latest to the newest version, and names the docs in the crate metadata once they exist', async () => {
    const before = JSON.parse((await r.request({ method: 'GET', url: '/api/v1/crates/widget', token: alice })).body);
    assert.equal(before.crate.documentation, null);
    assert.equal((await upload('widget', '1.1.0', await docsArchive('widget', 'widget two'))).statusCode, 200);
    const { entry, file } = await read('/docs/widget/latest/widget/index.html', { authorization: alice });
    assert.match(String(entry.headers.location), /\/widget\/1\.1\.0\/widget\/index\.html$/);
    assert.match(file!.body, /widget two/);
    const meta = JSON.parse((await r.request({ method: 'GET', url: '/api/v1/crates/widget', token: alice })).body);
    assert.equal(meta.crate.documentation, 'http://registry.test/docs/widget/latest/');
  });

  it('answers a reader who may not read the crate exactly as for a crate that does not exist', async () => {
    assert.equal((await upload('secret-core', '1.0.0', await docsArchive('secret-core', 'secret'))).statusCode, 200);
    const hidden = await r.request({ method: 'GET', url: '/docs/secret-core/1.0.0/', token: eve });
    const absent = await r.request({ method: 'GET', url: '/docs/secret-cave/1.0.0/', token: eve });
    assert.equal(hidden.statusCode, 404);
    assert.equal(hidden.body.replaceAll('secret-core', 'X'), absent.body.replaceAll('secret-cave', 'X'));
    const session = await signInWithToken(r, eve);
    const page = await r.request({ method: 'GET', url: '/docs/secret-core/latest/', headers: { cookie: session.cookie } });
    assert.equal(page.statusCode, 404);
    const { file } = await read('/docs/secret-core/1.0.0/', { authorization: alice });
    assert.match(file!.body, /secret/);
  });

  it("refuses an upload with `..`, an absolute path or links, and a stranger's, and stores nothing then", async () => {
    const stored = blobFiles(r.dataDir);
    const bad: [string, TarEntrySpec[]][] = [
      ['a `..` path', [{ name: '../escape.html', body: 'x' }]],
      ['a nested `..` path', [{ name: 'widget/../../escape.html', body: 'x' }]],
      ['an absolute path', [{ name: '/etc/escape.html', body: 'x' }]],
      ['a symlink', [{ name: 'widget/link.html', type: 'symlink', linkname: '/etc/passwd' }]],
      ['a hard link', [{ name: 'widget/hard.html', type: 'link', linkname: 'widget/index.html' }]],
      ['a device', [{ name: 'widget/dev', type: 'character-device' }]],
    ];
    for (const [what, extra] of bad) {
      const res = await upload('widget', '1.0.0', await docsArchive('widget', 'replaced', extra));
      assert.equal(res.statusCode, 400, `${what}: ${res.body}`);
      assert.match(JSON.parse(res.body).errors[0].detail, /docs archive/, what);
    }
    assert.equal((await upload('widget', '1.0.0', Buffer.from('not gzip'))).statusCode, 400);
    const stranger = await upload('widget', '1.0.0', await docsArchive('widget', 'replaced'), eve);
    assert.equal(stranger.statusCode, 403, stranger.body);
    assert.deepEqual(blobFiles(r.dataDir), stored);
    const { file } = await read('/docs/widget/1.0.0/widget/index.html', { authorization: alice });
    assert.match(file!.body, /widget one/);
  });

  // Without the early refusal the request would wait for its body forever: fail instead of hanging.
  it("refuses a stranger's upload before reading its body", { timeout: 120_000 }, async () => {
    await r.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = r.app.server.address() as AddressInfo;
    // Headers announcing 50 MB, and not one byte of the body: only a refusal made before the body
    // is read can answer this request.
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path: '/api/v1/crates/widget/1.0.0/docs',
          headers: { authorization: eve, 'content-type': 'application/gzip', 'content-length': String(50 * 1024 * 1024) },
        },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        },
      );
      request.on('error', reject);
      request.flushHeaders();
    });
    assert.equal(answer.status, 403, answer.body);
    assert.match(JSON.parse(answer.body).errors[0].detail, /owner|may not|permission/i);
  });

  it('shows the build list to owners only', async () => {
    const owner = await r.request({ method: 'GET', url: '/api/v1/crates/widget/docs/builds', token: r.adminToken });
    assert.equal(owner.statusCode, 200, owner.body);
    assert.deepEqual(
      JSON.parse(owner.body).builds.map((b: { version: string; status: string }) => `${b.version} ${b.status}`),
      ['1.1.0 uploaded', '1.0.0 uploaded'],
    );
    assert.equal((await r.request({ method: 'GET', url: '/api/v1/crates/widget/docs/builds', token: eve })).statusCode, 404);
  });

  it('links the docs from the crate page, and shows the builds to owners only', async () => {
    const owner = await signInWithToken(r, r.adminToken);
    const ownerPage = (await owner.get('/crates/widget/1.1.0')).body;
    assert.match(ownerPage, /<a id="docs-link" href="\/docs\/widget\/1\.1\.0\/">/);
    assert.match(ownerPage, /id="doc-builds-heading"/);
    const reader = await signInWithToken(r, alice);
    const readerPage = (await reader.get('/crates/widget/1.1.0')).body;
    assert.match(readerPage, /id="docs-link"/);
    assert.doesNotMatch(readerPage, /doc-builds/);
  });

  it('keeps the docs of the newest keep_versions versions', async () => {
    await r.publishAsAdmin('widget', '1.2.0');
    assert.equal((await upload('widget', '1.2.0', await docsArchive('widget', 'widget three'))).statusCode, 200);
    const gone = await r.request({ method: 'GET', url: '/docs/widget/1.0.0/', token: alice });
    assert.equal(gone.statusCode, 404);
    assert.ok(!blobFiles(r.dataDir).some((f) => f.startsWith('docs/widget/1.0.0/')), 'the old docs left the blob store');
    const { file } = await read('/docs/widget/1.1.0/widget/index.html', { authorization: alice });
    assert.match(file!.body, /widget two/);
  });
  it('resolves latest past a yanked newest version, and back once it is unyanked', async () => {
    const yank = (method: 'DELETE' | 'PUT', action: string) =>
      r.request({ method, url: `/api/v1/crates/widget/1.2.0/${action}`, token: r.adminToken });
    assert.equal((await yank('DELETE', 'yank')).statusCode, 200);
    let { entry } = await read('/docs/widget/latest/widget/index.html', { authorization: alice });
    assert.match(String(entry.headers.location), /\/widget\/1\.1\.0\/widget\/index\.html$/);
    assert.equal((await yank('PUT', 'unyank')).statusCode, 200);
    ({ entry } = await read('/docs/widget/latest/widget/index.html', { authorization: alice }));
    assert.match(String(entry.headers.location), /\/widget\/1\.2\.0\/widget\/index\.html$/);
  });
});
