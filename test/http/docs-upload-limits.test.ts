// A docs archive is buffered whole (up to docs.max_archive_size) before it is checked, so uploads
// get what publishes get: a few slots per process and one per user, and a deadline for the whole
// body. Without them, an owner's CI (or a stolen owner token) could hold any number of 100 MiB
// buffers, or a slot for ever by sending one byte a minute. And the archive's own limits (entries,
// unpacked bytes, a path twice, a backslash), each named in its refusal, which stores nothing.

import assert from 'node:assert/strict';
import { request as httpRequest, type ClientRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { makeTar } from '../support/crate-fixture.js';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';

interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

/** A docs upload that announces `length` bytes and sends only `sent` of them, then waits. */
function stalledUpload(port: number, token: string, length: number, sent: Buffer) {
  let request!: ClientRequest;
  const answer = new Promise<Answer>((resolve, reject) => {
    request = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'PUT',
        path: '/api/v1/crates/widget/1.0.0/docs',
        headers: { authorization: token, 'content-type': 'application/gzip', 'content-length': String(length) },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    request.on('error', reject);
    request.write(sent);
  });
  return { request, answer };
}

const archive = async () => gzipSync(await makeTar([{ name: 'widget/index.html', body: '<html><body>widget</body></html>' }]));

/** A whole docs upload of widget 1.0.0, in process. */
const uploadDocs = (r: TestRegistry, token: string, payload: Buffer) =>
  r.request({ method: 'PUT', url: '/api/v1/crates/widget/1.0.0/docs', token, payload, headers: { 'content-type': 'application/gzip' } });

async function listening(r: TestRegistry): Promise<number> {
  await r.app.listen({ port: 0, host: '127.0.0.1' });
  return (r.app.server.address() as AddressInfo).port;
}

describe('docs upload limits', () => {
  describe('the deadline for the whole body', () => {
    let r: TestRegistry;
    before(async () => {
      r = await startTestRegistry({
        'docs.upload_timeout_seconds': '1',
        'docs.max_archive_size': '64KiB',
        'docs.max_files': '3',
        'docs.max_unpacked_size': '16KiB',
      });
      await r.publishAsAdmin('widget', '1.0.0');
    });
    after(() => r.close());

    it(
      'refuses an upload that has not arrived within docs.upload_timeout_seconds with 408, and stores nothing',
      { timeout: 60_000 },
      async () => {
        const port = await listening(r);
        const stalled = stalledUpload(port, r.adminToken, 32 * 1024, Buffer.alloc(16));
        const refused = await stalled.answer;
        stalled.request.destroy();
        assert.equal(refused.status, 408, refused.body);
        assert.match(JSON.parse(refused.body).errors[0].detail, /did not arrive within 1 s \(docs\.upload_timeout_seconds\)/);
        const builds = await r.request({ method: 'GET', url: '/api/v1/crates/widget/docs/builds', token: r.adminToken });
        assert.deepEqual(JSON.parse(builds.body).builds, []);
      },
    );

    it('refuses an archive over docs.max_archive_size with 413 naming that setting', async () => {
      const res = await uploadDocs(r, r.adminToken, Buffer.alloc(65 * 1024));
      assert.equal(res.statusCode, 413, res.body);
      assert.match(JSON.parse(res.body).errors[0].detail, /accepts at most 65536 bytes \(docs\.max_archive_size\)$/);
    });

    it('refuses too many entries, too many unpacked bytes, a path twice and a backslash, naming the limit, and stores nothing', async () => {
      const before = await r.request({ method: 'GET', url: '/api/v1/crates/widget/docs/builds', token: r.adminToken });
      const refusals: [string, Buffer, number, RegExp][] = [
        [
          'four entries',
          gzipSync(await makeTar(['a', 'b', 'c', 'd'].map((n) => ({ name: `widget/${n}.html`, body: n })))),
          413,
          /more than 3 entries \(docs\.max_files\)/,
        ],
        [
          // 32 KiB of zeros compress to a few dozen bytes: counted as they unpack, not as they arrive.
          'a compression bomb',
          gzipSync(await makeTar([{ name: 'widget/index.html', body: '\0'.repeat(32 * 1024) }])),
          413,
          /unpacks to more than 16384 bytes \(docs\.max_unpacked_size\)/,
        ],
        [
          'a path twice',
          gzipSync(
            await makeTar([
              { name: 'widget/index.html', body: 'one' },
              { name: 'widget/index.html', body: 'two' },
            ]),
          ),
          400,
          /widget\/index\.html/,
        ],
        ['a backslash', gzipSync(await makeTar([{ name: 'widget\\index.html', body: 'x' }])), 400, /backslash/],
      ];
      for (const [what, body, status, detail] of refusals) {
        const res = await uploadDocs(r, r.adminToken, body);
        assert.equal(res.statusCode, status, `${what}: ${res.body}`);
        assert.match(JSON.parse(res.body).errors[0].detail, detail, what);
      }
      const after = await r.request({ method: 'GET', url: '/api/v1/crates/widget/docs/builds', token: r.adminToken });
      assert.equal(after.body, before.body);
    });
  });

  describe('the upload slots', () => {
    let r: TestRegistry;
    let alice: string;
    before(async () => {
      r = await startTestRegistry({ 'docs.max_uploads_in_flight': '1', 'publish.queue_seconds': '0' });
      alice = await r.userToken('alice');
      await r.publishAsAdmin('widget', '1.0.0');
      const added = await r.request({
        method: 'PUT',
        url: '/api/v1/crates/widget/owners',
        token: r.adminToken,
        payload: { users: ['alice'] },
      });
      assert.equal(added.statusCode, 200, added.body);
    });
    after(() => r.close());

    it(
      'refuses a second upload with 503 and Retry-After while one is being received, and frees the slot when it is abandoned',
      { timeout: 60_000 },
      async () => {
        const port = await listening(r);
        // Two uploads that send 16 bytes and stall: with one slot and no waiting, whichever comes
        // second is refused at once, and the first holds its slot.
        const first = stalledUpload(port, r.adminToken, 1024 * 1024, Buffer.alloc(16));
        const second = stalledUpload(port, alice, 1024 * 1024, Buffer.alloc(16));
        const [refused, holder] = await Promise.race([
          first.answer.then((answer) => [answer, second] as const),
          second.answer.then((answer) => [answer, first] as const),
        ]);
        // The refused one never sends the rest of its body: close it, as cargo would.
        (holder === first ? second : first).request.destroy();
        assert.equal(refused.status, 503, refused.body);
        assert.ok(Number(refused.headers['retry-after']) > 0, 'no Retry-After on a 503');
        assert.match(JSON.parse(refused.body).errors[0].detail, /too many docs uploads in progress/);

        holder.request.destroy();
        await holder.answer.catch(() => undefined);
        // The abandoned upload's slot is free again: the same upload now goes through.
        let accepted: number | undefined;
        for (let attempt = 0; attempt < 200 && accepted !== 200; attempt++) {
          const res = await uploadDocs(r, alice, await archive());
          accepted = res.statusCode;
          if (accepted !== 200) await new Promise((resolve) => setTimeout(resolve, 25));
        }
        assert.equal(accepted, 200);
      },
    );
  });
});
