// Crates and versions in SQL. A publish is one transaction over several repositories' tables: the
// crate (created with its publisher as owner, or checked for ownership), the version, the crate's
// stored index file (sql-index-files.ts), the version it is shown at (sql-max-version.ts) and the
// change log; a yank, the flag, the index file, the shown version and the change log. Inside a
// unit of work both join its transaction.

import { crateNameTaken, notAnOwner, versionExists } from '../../domain/publish-conflicts.js';
import type { IndexEntry } from '../../domain/index-line.js';
import type { IndexFile, IndexFileForm } from '../../domain/index-file.js';
import type { Crates, NewVersion, StoredVersion, VersionBlob } from '../../ports/crates.js';
import { appendIndexLine, lockIndexFile, readIndexFile, replaceIndexLine } from './sql-index-files.js';
import { SqlChangeLog } from './sql-change-log.js';
import { refreshMaxVersion } from './sql-max-version.js';
import { crateByLowerName, SqlOwners } from './sql-owners.js';
import { toStoredVersion } from './sql-rows.js';
import type { Db, SqlScope } from './sql-scope.js';

function versionRows(db: Db, crateId: number) {
  return db.selectFrom('versions').select(['entry_json', 'yanked']).where('crate_id', '=', crateId).orderBy('id').execute();
}

export class SqlCrates implements Crates {
  constructor(private readonly scope: SqlScope) {}

  async listVersions(lowerName: string): Promise<StoredVersion[] | undefined> {
    const crate = await crateByLowerName(this.scope.db, lowerName);
    if (!crate) return undefined;
    return (await versionRows(this.scope.db, crate.id)).map(toStoredVersion);
  }

  async readIndexFile(lowerName: string, form: IndexFileForm): Promise<IndexFile | undefined> {
    return readIndexFile(this.scope, lowerName, form);
  }

  async publishVersion(v: NewVersion): Promise<{ newCrate: boolean }> {
    return this.publishVersionOnce(v, false);
  }

  private async publishVersionOnce(v: NewVersion, retried: boolean): Promise<{ newCrate: boolean }> {
    const name = v.entry.name;
    try {
      return await this.scope.atomically((tx) => this.storeVersion(tx, v));
    } catch (error) {
      // Two writers raced past the checks in storeVersion; the database's unique constraints
      // decided. On PostgreSQL the loser may have raced to create the crate, not the version: one
      // more try sees the winner's commit and gives the true answer. Inside a unit of work the
      // failed statement has spoilt the transaction, so there is no second try.
      if (this.scope.rules.isUniqueViolation(error)) {
        if (!retried && !this.scope.inTransaction) return this.publishVersionOnce(v, true);
        throw versionExists(name, v.entry.vers);
      }
      throw error;
    }
  }

  private async storeVersion(tx: SqlScope, v: NewVersion): Promise<{ newCrate: boolean }> {
    const name = v.entry.name;
    const owners = new SqlOwners(tx);
    let newCrate = false;
    let crate = await tx.db.selectFrom('crates').select(['id', 'name']).where('name_normalized', '=', v.normalizedName).executeTakeFirst();
    if (crate && crate.name !== name) throw crateNameTaken(crate.name, name);
    if (!crate) {
      crate = await tx.db
        .insertInto('crates')
        .values({
          name,
          name_lower: name.toLowerCase(),
          name_normalized: v.normalizedName,
          description: v.details.description,
          created_at: v.publishedAt,
          updated_at: v.publishedAt,
        })
        .returning(['id', 'name'])
        .executeTakeFirstOrThrow();
      await owners.addFirstOwner(crate.id, v.publisherId, v.publishedAt);
      newCrate = true;
    } else {
      if (!(await owners.isOwner(crate.id, v.publisherId))) throw notAnOwner(name);
      await tx.db
        .updateTable('crates')
        .set({ description: v.details.description, updated_at: v.publishedAt })
        .where('id', '=', crate.id)
        .execute();
    }
    const existing = await tx.db
      .selectFrom('versions')
      .select('vers')
      .where('crate_id', '=', crate.id)
      .where('vers_key', '=', v.versionKey)
      .executeTakeFirst();
    if (existing) throw versionExists(name, existing.vers);
    await tx.db
      .insertInto('versions')
      .values({
        crate_id: crate.id,
        vers: v.entry.vers,
        vers_key: v.versionKey,
        entry_json: JSON.stringify(v.entry),
        details_json: JSON.stringify(v.details),
        blob_key: v.blobKey,
        size: v.size,
        cksum: v.entry.cksum,
        published_by: v.publisherId,
        created_at: v.publishedAt,
      })
      .execute();
    await appendIndexLine(tx, crate.id, name.toLowerCase(), v.entry);
    await refreshMaxVersion(tx.db, crate.id);
    await new SqlChangeLog(tx).record('crate', name.toLowerCase());
    return { newCrate };
  }

  async setYanked(lowerName: string, version: string, yanked: boolean): Promise<boolean> {
    return this.scope.atomically(async (tx) => {
      const crate = await crateByLowerName(tx.db, lowerName);
      if (!crate) return false;
      // On PostgreSQL, the crate's row first and then its index file, as a publish takes them (it
      // updates the row before it appends to the file): both write the row's shown version, and
      // taking the two in opposite orders deadlocked concurrent publishes and yanks.
      if (tx.rules.name === 'postgres') await tx.db.selectFrom('crates').select('id').where('id', '=', crate.id).forUpdate().execute();
      const file = await lockIndexFile(tx, lowerName);
      const row = await tx.db
        .selectFrom('versions')
        .select(['id', 'entry_json', 'yanked'])
        .where('crate_id', '=', crate.id)
        .where('vers', '=', version)
        .executeTakeFirst();
      if (!row) return false;
      if ((row.yanked === 1) !== yanked) {
        await tx.db
          .updateTable('versions')
          .set({ yanked: yanked ? 1 : 0 })
          .where('id', '=', row.id)
          .execute();
        await replaceIndexLine(tx, crate.id, lowerName, file, JSON.parse(row.entry_json) as IndexEntry, yanked);
        await refreshMaxVersion(tx.db, crate.id);
      }
      await new SqlChangeLog(tx).record('crate', lowerName);
      return true;
    });
  }

  async findVersionBlob(lowerName: string, version: string): Promise<VersionBlob | undefined> {
    const row = await this.scope.db
      .selectFrom('versions')
      .innerJoin('crates', 'crates.id', 'versions.crate_id')
      .select(['versions.blob_key', 'versions.size', 'versions.cksum'])
      .where('crates.name_lower', '=', lowerName)
      .where('versions.vers', '=', version)
      .executeTakeFirst();
    return row && { blobKey: row.blob_key, size: row.size, cksum: row.cksum };
  }

  async findCrateName(normalizedName: string): Promise<string | undefined> {
    const row = await this.scope.db.selectFrom('crates').select('name').where('name_normalized', '=', normalizedName).executeTakeFirst();
    return row?.name;
  }
}
