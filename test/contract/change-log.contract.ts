// The ChangeLog contract: every mutation of every repository recorded once, in order, and never
// a refused one; and a poller that follows the log while writers commit concurrently, as another
// process or replica does, never misses a change. Run against SQLite and PostgreSQL by
// metadata-repositories-*.test.ts; each test opens a fresh, empty database.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetadataDatabase } from '../../src/ports/metadata-database.js';
import { runFeedRace } from './feed-race.js';
import { freshPerTest } from './fresh-per-test.js';
import { newVersion, rejectsWith } from './repository-fixtures.js';

export interface ChangeLogContractOptions {
  /**
   * Opens two databases on one fresh database, as two processes would, for the change-log race:
   * the first writes, the second polls. Its commits may be made to linger after a change is
   * recorded, to widen race windows. Without it, one database from `open` does both.
   */
  openTwin?: () => Promise<[MetadataDatabase, MetadataDatabase]>;
}

export function changeLogContract(name: string, open: () => Promise<MetadataDatabase>, options: ChangeLogContractOptions = {}): void {
  describe(`ChangeLog contract: ${name}`, () => {
    const { fresh, closeAfterTest } = freshPerTest(open);
    const freshTwin = async (): Promise<[MetadataDatabase, MetadataDatabase]> => {
      if (!options.openTwin) {
        const db = await fresh();
        return [db, db];
      }
      const [writer, reader] = await options.openTwin();
      closeAfterTest(writer, reader);
      return [writer, reader];
    };

    describe('change feed', () => {
      it('starts empty', async () => {
        const db = await fresh();
        assert.equal(await db.changes.latestChangeSeq(), 0);
        assert.deepEqual(await db.changes.changesSince(0), []);
      });

      it('records every mutation, in order, and no refused one', async () => {
        const db = await fresh();
        const alice = await db.users.createUser('alice', false);
        const bob = await db.users.createUser('bob', false);
        const token = await db.tokens.insertToken({ userId: alice.id, name: 'ci', hash: 'hash-1', expiresAt: null });
        const start = await db.changes.latestChangeSeq();

        await db.crates.publishVersion(newVersion('Serde', '1.0.0', alice.id));
        await rejectsWith(db.crates.publishVersion(newVersion('serde', '1.0.0', alice.id)), 'conflict', 'crate-name-taken');
        await db.crates.publishVersion(newVersion('toml', '0.1.0', bob.id));
        await db.crates.setYanked('serde', '1.0.0', true);
        await db.crates.setYanked('serde', '7.0.0', true);
        await db.owners.addOwners('serde', [bob.id]);
        await db.owners.removeOwners('serde', [alice.id]);
        await rejectsWith(db.owners.removeOwners('serde', [bob.id]), 'conflict', 'last-owner');
        await db.tokens.revokeToken(token.id);
        await db.tokens.revokeToken(token.id);

        const changes = await db.changes.changesSince(start);
        assert.deepEqual(
          changes.map((c) => `${c.kind}:${c.subject}`),
          ['crate:serde', 'crate:toml', 'crate:serde', 'crate:serde', 'crate:serde', 'token:hash-1'],
        );
        for (let i = 1; i < changes.length; i++) assert.ok(changes[i]!.seq > changes[i - 1]!.seq);
        assert.ok(changes[0]!.seq > start);
        assert.equal(await db.changes.latestChangeSeq(), changes.at(-1)!.seq);
        assert.deepEqual(await db.changes.changesSince(changes[3]!.seq), changes.slice(4));
        assert.deepEqual(await db.changes.changesSince(changes.at(-1)!.seq), []);
      });

      it('never lets a poller miss a change committed by concurrent writers', async () => {
        const [writer, reader] = await freshTwin();
        const { committed, missed, polls } = await runFeedRace(writer, reader, 120);
        assert.equal(committed.length, 120);
        assert.ok(polls > 1, 'the poller did not run alongside the writers');
        assert.deepEqual(missed, [], `the poller missed ${missed.length} of ${committed.length} changes in ${polls} polls`);
      });
    });
  });
}
