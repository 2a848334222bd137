// The one function that sends index files for the local index and every mirror, through a tiny
// fastify app: If-None-Match with the weak comparison (exact, W/, lists, `*`, mismatch), the
// headers on 200 and 304, and the gzip form only for a client that accepts it and a file large
// enough (the threshold is IndexFiles' own, so the real IndexFiles makes the gzip form here).

import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { sendIndexFile } from '../../src/http/index-file-reply.js';
import type { Crates } from '../../src/ports/crates.js';
import type { IndexFile } from '../../src/domain/index-file.js';
import { IndexFiles } from '../../src/services/index-files.js';

const ETAG = '"c29tZS1jb250ZW50LWhhc2g"';
const line = (i: number) => `{"name":"demo","vers":"1.0.${i}","deps":[],"cksum":"${'0'.repeat(64)}","features":{},"yanked":false}\n`;
/** Well over gzip's 1 KiB threshold, well under the inline-compression limit. */
const largeBody = Buffer.from(Array.from({ length: 40 }, (_, i) => line(i)).join(''));
const smallBody = Buffer.from(line(0));

describe('sendIndexFile', () => {
  let app: FastifyInstance;
  let gzipCalls = 0;
  // gzipped() compresses the file it is given; it never touches the store.
  const indexFiles = new IndexFiles({} as Crates, 1024 * 1024);
  const compressor = {
    gzipped: (file: IndexFile) => {
      gzipCalls++;
      return indexFiles.gzipped(file);
    },
  };
  // Fresh files per request, so that no gzip form is remembered between tests.
  const files: Record<string, () => IndexFile> = {
    large: () => ({ body: Buffer.from(largeBody), etag: ETAG }),
    small: () => ({ body: Buffer.from(smallBody), etag: ETAG }),
  };

  before(async () => {
    app = Fastify({ logger: false });
    app.get<{ Params: { which: string } }>('/file/:which', async (request, reply) =>
      sendIndexFile(request, reply, files[request.params.which]!(), compressor),
    );
    await app.ready();
  });
  after(() => app.close());

  const get = (which: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url: `/file/${which}`, headers });

  it('sends the file with its ETag, revalidation, vary and a text content type', async () => {
    const res = await get('large');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers.etag, ETAG);
    assert.equal(res.headers['cache-control'], 'private, no-cache');
    assert.equal(res.headers.vary, 'accept-encoding');
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(res.headers['content-encoding'], undefined);
    assert.deepEqual(res.rawPayload, largeBody);
  });

  for (const [what, ifNoneMatch] of [
    ['the exact ETag', ETAG],
    ['the weak form W/ of the ETag', `W/${ETAG}`],
    ['a list that holds the ETag', `"something-else", ${ETAG}`],
    ['a list that holds the weak form', `W/"older",W/${ETAG} `],
    ['*', '*'],
    ['* with spaces around it', ' * '],
  ] as const) {
    it(`answers 304 with no body to If-None-Match: ${what}`, async () => {
      const res = await get('large', { 'if-none-match': ifNoneMatch, 'accept-encoding': 'gzip' });
      assert.equal(res.statusCode, 304);
      assert.equal(res.rawPayload.length, 0);
      assert.equal(res.headers.etag, ETAG);
      assert.equal(res.headers['cache-control'], 'private, no-cache');
      assert.equal(res.headers.vary, 'accept-encoding');
      assert.equal(res.headers['content-encoding'], undefined);
    });
  }

  for (const [what, ifNoneMatch] of [
    ['another ETag', '"something-else"'],
    ['a list of other ETags', '"a", W/"b"'],
    ['the ETag without its quotes', ETAG.slice(1, -1)],
    ['a prefix of the ETag', ETAG.slice(0, 10)],
    ['an empty value', ''],
  ] as const) {
    it(`sends the whole file when If-None-Match is ${what}`, async () => {
      const res = await get('large', { 'if-none-match': ifNoneMatch });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers.etag, ETAG);
      assert.deepEqual(res.rawPayload, largeBody);
    });
  }

  it('sends the gzip form of a large file to a client that accepts gzip', async () => {
    const res = await get('large', { 'accept-encoding': 'br, gzip' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(res.headers.etag, ETAG, 'the gzip form keeps the ETag of the file');
    assert.equal(res.headers.vary, 'accept-encoding');
    assert.ok(res.rawPayload.length < largeBody.length);
    assert.deepEqual(gunzipSync(res.rawPayload), largeBody);
  });

  it('does not compress for a client that does not accept gzip', async () => {
    gzipCalls = 0;
    const refusals: Record<string, string>[] = [{}, { 'accept-encoding': 'br' }, { 'accept-encoding': 'identity' }];
    for (const headers of refusals) {
      const res = await get('large', headers);
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-encoding'], undefined);
      assert.deepEqual(res.rawPayload, largeBody);
    }
    assert.equal(gzipCalls, 0, 'no gzip form is made for a client that cannot use it');
  });

  it('sends a small file as it is even to a client that accepts gzip', async () => {
    const res = await get('small', { 'accept-encoding': 'gzip' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-encoding'], undefined);
    assert.equal(res.headers.vary, 'accept-encoding');
    assert.deepEqual(res.rawPayload, smallBody);
  });
});
