import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { openSqliteDatabase } from '../../src/adapters/metadata/sqlite.js';
import type { MetadataDatabase } from '../../src/ports/metadata-database.js';
import { AdvisorySyncService, CHECKING_PHASE } from '../../src/services/advisory-sync.js';
import { advisoryArchive, advisoryFiles, advisoryText, writeAdvisoryFolder } from '../support/advisory-fixtures.js';

const SOURCE = 'upstream:crates-io';
const GOOD = [
  { id: 'RUSTSEC-2026-0001', package: 'smallvec', patched: ['>= 1.6.1'], cvss: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' },
  { id: 'RUSTSEC-2026-0002', package: 'smallvec', patched: ['>= 1.8.0'], withdrawn: '2026-02-01' },
  { id: 'RUSTSEC-2026-0003', package: 'memchr', informational: 'unmaintained' },
];
const MALFORMED = {
  'crates/broken/RUSTSEC-2026-0004.md': advisoryText({ id: 'RUSTSEC-2026-0004', package: 'broken' }).replace('[versions]', '[versions'),
  'crates/wrongdir/RUSTSEC-2026-0005.md': advisoryText({ id: 'RUSTSEC-2026-0005', package: 'other' }),
  'crates/zdup/RUSTSEC-2026-0001.md': advisoryText({ id: 'RUSTSEC-2026-0001', package: 'zdup' }),
};

const dir = makeTempDir('cratekeeper-advisory-sync-');
let n = 0;
const openDb = () => openSqliteDatabase(join(dir, `metadata-${++n}.sqlite`));
const ids = async (db: MetadataDatabase, crate: string) => (await db.advisories.forCrate(SOURCE, crate)).map((a) => a.id);

describe('advisories sync', () => {
  let server: Server;
  let base: string;
  const served = new Map<string, Buffer>();
  before(async () => {
    server = createServer((req, res) => {
      const body = served.get(req.url ?? '');
      res.writeHead(body ? 200 : 404).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('imports a folder laid out as a git clone, reporting malformed files by path and never entering .git', async () => {
    const db = await openDb();
    const folder = writeAdvisoryFolder(makeTempDir('cratekeeper-advisory-db-'), advisoryFiles(GOOD, MALFORMED));
    const progress: string[] = [];
    const summary = await new AdvisorySyncService(db.advisories, () => new Date('2030-01-01T00:00:00Z')).sync(
      folder,
      SOURCE,
      (phase, done, total) => progress.push(`${phase} ${done}/${total}`),
    );
    assert.equal(summary.imported, 3);
    assert.equal(summary.withdrawn, 1);
    assert.deepEqual(
      summary.skipped.map((s) => s.path),
      ['crates/broken/RUSTSEC-2026-0004.md', 'crates/wrongdir/RUSTSEC-2026-0005.md', 'crates/zdup/RUSTSEC-2026-0001.md'],
    );
    const reasons = Object.fromEntries(summary.skipped.map((s) => [s.path, s.reason]));
    assert.match(reasons['crates/broken/RUSTSEC-2026-0004.md']!, /not valid TOML/);
    assert.match(reasons['crates/wrongdir/RUSTSEC-2026-0005.md']!, /differs from its folder/);
    // The first file of an id wins (paths in order); the second is reported.
    assert.match(reasons['crates/zdup/RUSTSEC-2026-0001.md']!, /RUSTSEC-2026-0001 is also in crates\/smallvec\/RUSTSEC-2026-0001.md/);
    assert.deepEqual(await ids(db, 'smallvec'), ['RUSTSEC-2026-0002', 'RUSTSEC-2026-0001']);
    assert.deepEqual(await ids(db, 'broken'), []);
    assert.deepEqual(await db.advisories.forCrate('local', 'smallvec'), []);
    assert.equal((await db.advisories.lastSync(SOURCE))?.syncedAt, '2030-01-01T00:00:00.000Z');
    assert.ok(progress.includes(`${CHECKING_PHASE} 6/6`), progress.join(', '));
    await db.close();
  });

  it('imports CVSS 4.0 advisories with their score, and one whose vector cannot be scored as unscored, saying so', async () => {
    const db = await openDb();
    const folder = writeAdvisoryFolder(
      makeTempDir('cratekeeper-advisory-db-'),
      advisoryFiles([
        {
          id: 'RUSTSEC-2026-0073',
          package: 'libcrux-poly1305',
          patched: ['>= 0.0.5 '],
          cvss: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N',
        },
        { id: 'RUSTSEC-2026-0074', package: 'odd', cvss: 'CVSS:4.0/AV:N/AC:L' },
      ]),
    );
    const summary = await new AdvisorySyncService(db.advisories).sync(folder, SOURCE);
    assert.deepEqual([summary.imported, summary.skipped], [2, []]);
    assert.deepEqual(
      summary.unscored.map((u) => u.path),
      ['crates/odd/RUSTSEC-2026-0074.md'],
    );
    assert.match(summary.unscored[0]!.reason, /not a CVSS 4.0 vector: the base metric AT is missing/);
    assert.deepEqual(
      (await db.advisories.forCrate(SOURCE, 'libcrux-poly1305')).map((a) => [a.id, a.cvssScore]),
      [['RUSTSEC-2026-0073', 8.7]],
    );
    assert.deepEqual(
      (await db.advisories.forCrate(SOURCE, 'odd')).map((a) => [a.id, a.cvss, a.cvssScore]),
      [['RUSTSEC-2026-0074', 'CVSS:4.0/AV:N/AC:L', undefined]],
    );
    await db.close();
  });

  it('imports a .tar.gz in GitHub archive layout, from a file and from a URL', async () => {
    const db = await openDb();
    const archive = advisoryArchive(advisoryFiles(GOOD));
    const file = join(makeTempDir('cratekeeper-advisory-tgz-'), 'advisory-db-main.tar.gz');
    writeFileSync(file, archive);
    const service = new AdvisorySyncService(db.advisories);
    const fromFile = await service.sync(file, SOURCE);
    assert.deepEqual([fromFile.imported, fromFile.skipped], [3, []]);
    assert.deepEqual(await ids(db, 'memchr'), ['RUSTSEC-2026-0003']);

    served.set('/main.tar.gz', advisoryArchive(advisoryFiles([{ id: 'RUSTSEC-2026-0010', package: 'memchr', patched: ['>= 2'] }])));
    const fromUrl = await service.sync(`${base}/main.tar.gz`, SOURCE);
    assert.equal(fromUrl.imported, 1);
    assert.ok(fromUrl.syncId > fromFile.syncId);
    assert.deepEqual(await ids(db, 'memchr'), ['RUSTSEC-2026-0010']);
    assert.deepEqual(await ids(db, 'smallvec'), []);
    await db.close();
  });

  it('leaves the previous database in force when a sync fails, and says why', async () => {
    const db = await openDb();
    const service = new AdvisorySyncService(db.advisories);
    const previous = await service.sync(writeAdvisoryFolder(makeTempDir('cratekeeper-advisory-db-'), advisoryFiles(GOOD)), SOURCE);
    const scratch = makeTempDir('cratekeeper-advisory-bad-');
    const garbage = join(scratch, 'garbage.tar.gz');
    writeFileSync(garbage, 'this is not gzip');
    const truncated = join(scratch, 'truncated.tar.gz');
    writeFileSync(truncated, advisoryArchive(advisoryFiles(GOOD)).subarray(0, 200));
    const { 'crates/zdup/RUSTSEC-2026-0001.md': _fine, ...onlyMalformed } = MALFORMED;
    const allBad = writeAdvisoryFolder(makeTempDir('cratekeeper-advisory-db-'), advisoryFiles([], onlyMalformed));
    const noCrates = makeTempDir('cratekeeper-advisory-empty-');
    const failures: [string, RegExp][] = [
      [garbage, /could not read .*garbage\.tar\.gz/],
      [truncated, /could not read .*truncated\.tar\.gz/],
      [join(scratch, 'missing'), /could not read .*missing/],
      [allBad, /none of the 2 advisory files .* could be read .*nothing was changed/],
      [noCrates, /is not an advisory database: it has no crates\/ folder/],
      [`${base}/absent.tar.gz`, /could not download .*HTTP 404/],
    ];
    for (const [from, message] of failures) {
      await assert.rejects(service.sync(from, SOURCE), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'advisory-sync-failed', from);
        assert.match(e.message, message);
        return true;
      });
    }
    // A database error in the swap.
    const failing = new AdvisorySyncService({ ...db.advisories, replaceAll: () => Promise.reject(new Error('disk I/O error')) });
    await assert.rejects(
      failing.sync(writeAdvisoryFolder(makeTempDir('cratekeeper-advisory-db-'), advisoryFiles(GOOD)), SOURCE),
      /storing the advisories failed, the previous ones stay in force: disk I\/O error/,
    );

    assert.equal(await db.advisories.latestSyncId(), previous.syncId);
    assert.deepEqual(await ids(db, 'smallvec'), ['RUSTSEC-2026-0002', 'RUSTSEC-2026-0001']);
    await db.close();
  });
});
