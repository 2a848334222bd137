// The DocBuilds repository's contract (rustdoc hosting, ports/doc-builds.ts): a version is queued
// once; a claim hands a job to one builder only, and hands it again when its lease ran out; only the
// lease holder finishes it; an upload replaces a build and says which docs it replaced. Run on
// SQLite and PostgreSQL by metadata-repositories-*.test.ts; each test opens a fresh database.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetadataDatabase } from '../../src/ports/metadata-database.js';
import { freshPerTest } from './fresh-per-test.js';

const AT = '2030-01-01T00:00:00.000Z';
const SOON = '2030-01-01T00:10:00.000Z';
const LATER = '2030-01-01T01:00:00.000Z';
const MUCH_LATER = '2030-01-01T02:00:00.000Z';

export function docBuildsContract(name: string, open: () => Promise<MetadataDatabase>): void {
  describe(`DocBuilds contract: ${name}`, () => {
    const { fresh } = freshPerTest(open);

    it('queues a version once and hands each job to one builder', async () => {
      const db = await fresh();
      assert.equal(await db.docBuilds.enqueue('demo', '1.0.0', AT), true);
      assert.equal(await db.docBuilds.enqueue('demo', '1.0.0', AT), false);
      assert.equal(await db.docBuilds.enqueue('demo', '1.1.0', AT), true);
      const [a, b, c] = await Promise.all([
        db.docBuilds.claim('a', AT, LATER),
        db.docBuilds.claim('b', AT, LATER),
        db.docBuilds.claim('c', AT, LATER),
      ]);
      const claimed = [a, b, c].filter((job) => job !== undefined);
      assert.deepEqual(claimed.map((job) => job.version).sort(), ['1.0.0', '1.1.0']);
      assert.ok(claimed.every((job) => job.status === 'building' && job.attempts === 1));
      assert.equal(await db.docBuilds.claim('d', AT, LATER), undefined);
    });

    it('hands a job again once its lease ran out, and only the holder finishes it', async () => {
      const db = await fresh();
      await db.docBuilds.enqueue('demo', '1.0.0', AT);
      const first = await db.docBuilds.claim('a', AT, SOON);
      assert.ok(first);
      assert.equal(await db.docBuilds.claim('b', AT, LATER), undefined, 'the lease still holds');
      const again = await db.docBuilds.claim('b', LATER, MUCH_LATER);
      assert.equal(again?.id, first.id);
      assert.equal(again?.attempts, 2);
      const stale = await db.docBuilds.finish(first.id, 'a', { status: 'done', log: 'a', docsKey: 'docs/demo/1.0.0/a' }, LATER);
      assert.deepEqual(stale, { finished: false, previousDocsKey: null });
      const done = await db.docBuilds.finish(first.id, 'b', { status: 'done', log: 'built', docsKey: 'docs/demo/1.0.0/b' }, LATER);
      assert.deepEqual(done, { finished: true, previousDocsKey: null });
      const row = await db.docBuilds.find('demo', '1.0.0');
      assert.deepEqual(
        { status: row?.status, log: row?.log, docsKey: row?.docsKey },
        { status: 'done', log: 'built', docsKey: 'docs/demo/1.0.0/b' },
      );
    });

    it('records an upload over a build, naming the docs it replaced', async () => {
      const db = await fresh();
      const alice = await db.users.createUser('alice', false);
      await db.docBuilds.enqueue('demo', '1.0.0', AT);
      const job = (await db.docBuilds.claim('a', AT, LATER))!;
      await db.docBuilds.finish(job.id, 'a', { status: 'failed', log: 'error[E0425]', docsKey: null }, AT);
      assert.deepEqual(await db.docBuilds.recordUpload('demo', '1.0.0', 'docs/demo/1.0.0/x', alice.id, SOON), { previousDocsKey: null });
      assert.deepEqual(await db.docBuilds.recordUpload('demo', '1.0.0', 'docs/demo/1.0.0/y', alice.id, LATER), {
        previousDocsKey: 'docs/demo/1.0.0/x',
      });
      assert.deepEqual(await db.docBuilds.recordUpload('demo', '2.0.0', 'docs/demo/2.0.0/z', alice.id, LATER), { previousDocsKey: null });
      const rows = await db.docBuilds.listForCrate('demo');
      assert.deepEqual(
        rows.map((r) => [r.version, r.status, r.docsKey]),
        [
          ['2.0.0', 'uploaded', 'docs/demo/2.0.0/z'],
          ['1.0.0', 'uploaded', 'docs/demo/1.0.0/y'],
        ],
      );
      assert.equal(await db.docBuilds.remove(rows[1]!.id), 'docs/demo/1.0.0/y');
      assert.equal(await db.docBuilds.find('demo', '1.0.0'), undefined);
    });

    it("finds a token's principal by its id, as by its hash", async () => {
      const db = await fresh();
      const alice = await db.users.createUser('alice', false);
      const token = await db.tokens.insertToken({ userId: alice.id, name: 'web', hash: 'h1', expiresAt: null });
      assert.deepEqual(await db.tokens.findPrincipalByTokenId(token.id), await db.tokens.findPrincipalByTokenHash('h1'));
      await db.tokens.revokeToken(token.id);
      assert.equal(await db.tokens.findPrincipalByTokenId(token.id), undefined);
    });
  });
}
