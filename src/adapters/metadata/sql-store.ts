// The metadata store on SQL through Kysely. The queries are portable; what differs between
// databases (the connection, how a unique violation is reported) comes in from the dialect file.

import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { normalizeCrateName } from '../../domain/crate-name.js';
import { conflict } from '../../domain/errors.js';
import { crateNameTaken, notAnOwner, versionExists } from '../../domain/publish-conflicts.js';
import type { IndexEntry } from '../../domain/index-line.js';
import type {
  Change,
  MetadataStore,
  NewToken,
  NewVersion,
  SearchHit,
  StoredVersion,
  StoredVersionJson,
  TokenPrincipal,
  TokenRecord,
  User,
  VersionBlob,
} from '../../ports/metadata-store.js';
import type { Database } from './sql-schema.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface SqlStoreOptions {
  isUniqueViolation(error: unknown): boolean;
  /** Runs in the writing transaction just before a change is recorded (PostgreSQL: orders the feed by commit). */
  beforeRecordChange?(tx: Kysely<Database>): Promise<void>;
}

const now = () => new Date().toISOString();

function toUser(row: { id: number; login: string; is_admin: number; created_at: string }): User {
  return { id: row.id, login: row.login, isAdmin: row.is_admin === 1, createdAt: row.created_at };
}

const fromJsonList = (text: string | null): string[] | null => (text === null ? null : (JSON.parse(text) as string[]));
const toJsonList = (list: string[] | null): string | null => (list === null ? null : JSON.stringify(list));

function toToken(row: Selectable<Database['tokens']>): TokenRecord {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    scopes: fromJsonList(row.scopes),
    cratePatterns: fromJsonList(row.crate_patterns),
    origin: row.origin,
  };
}

function toStoredVersion(row: { entry_json: string; yanked: number }): StoredVersion {
  return { entry: JSON.parse(row.entry_json) as IndexEntry, yanked: row.yanked === 1 };
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => '\\' + c);
}

export class SqlMetadataStore implements MetadataStore {
  constructor(
    /** Shared with the other tables' adapters on the same database (the audit log). */
    readonly db: Kysely<Database>,
    private readonly options: SqlStoreOptions,
  ) {}

  private async recordChange(db: Db, kind: Change['kind'], subject: string): Promise<void> {
    await this.options.beforeRecordChange?.(db);
    await db.insertInto('changes').values({ kind, subject, created_at: now() }).execute();
  }

  async createUser(login: string, isAdmin: boolean): Promise<User> {
    try {
      const row = await this.db
        .insertInto('users')
        .values({ login, is_admin: isAdmin ? 1 : 0, created_at: now() })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toUser(row);
    } catch (error) {
      if (this.options.isUniqueViolation(error)) throw conflict('user-exists', `a user named \`${login}\` already exists`);
      throw error;
    }
  }

  async findUserByLogin(login: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('login', '=', login).executeTakeFirst();
    return row && toUser(row);
  }

  async countUsers(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async insertToken(token: NewToken): Promise<TokenRecord> {
    const row = await this.db
      .insertInto('tokens')
      .values({
        user_id: token.userId,
        name: token.name,
        token_hash: token.hash,
        created_at: now(),
        expires_at: token.expiresAt,
        scopes: toJsonList(token.scopes ?? null),
        crate_patterns: toJsonList(token.cratePatterns ?? null),
        origin: token.origin ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toToken(row);
  }

  async findPrincipalByTokenHash(hash: string): Promise<TokenPrincipal | undefined> {
    const row = await this.db
      .selectFrom('tokens')
      .innerJoin('users', 'users.id', 'tokens.user_id')
      .select([
        'tokens.id as tokenId',
        'users.id as userId',
        'users.login',
        'users.is_admin',
        'tokens.expires_at',
        'tokens.scopes',
        'tokens.crate_patterns',
        'tokens.origin',
      ])
      .where('tokens.token_hash', '=', hash)
      .where('tokens.revoked_at', 'is', null)
      .executeTakeFirst();
    if (!row) return undefined;
    const groups = await this.db
      .selectFrom('group_members')
      .select('group_name')
      .where('user_id', '=', row.userId)
      .orderBy('group_name')
      .execute();
    return {
      tokenId: row.tokenId,
      userId: row.userId,
      login: row.login,
      isAdmin: row.is_admin === 1,
      expiresAt: row.expires_at,
      scopes: fromJsonList(row.scopes),
      cratePatterns: fromJsonList(row.crate_patterns),
      groups: groups.map((g) => g.group_name),
      origin: row.origin,
    };
  }

  async addGroupMember(group: string, userId: number): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const result = await tx
        .insertInto('group_members')
        .values({ group_name: group, user_id: userId, created_at: now() })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) return false;
      await this.recordChange(tx, 'user', String(userId));
      return true;
    });
  }

  async removeGroupMember(group: string, userId: number): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const result = await tx
        .deleteFrom('group_members')
        .where('group_name', '=', group)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) return false;
      await this.recordChange(tx, 'user', String(userId));
      return true;
    });
  }

  async listGroupMembers(group: string): Promise<User[]> {
    const rows = await this.db
      .selectFrom('group_members')
      .innerJoin('users', 'users.id', 'group_members.user_id')
      .select(['users.id', 'users.login', 'users.is_admin', 'users.created_at'])
      .where('group_members.group_name', '=', group)
      .orderBy('users.login')
      .execute();
    return rows.map(toUser);
  }

  async setPasswordHash(userId: number, hash: string | null): Promise<void> {
    await this.db.updateTable('users').set({ password_hash: hash }).where('id', '=', userId).execute();
  }

  async findPasswordHash(login: string): Promise<{ user: User; passwordHash: string | null } | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('login', '=', login).executeTakeFirst();
    return row && { user: toUser(row), passwordHash: row.password_hash };
  }

  async anyPasswordSet(): Promise<boolean> {
    const row = await this.db.selectFrom('users').select('id').where('password_hash', 'is not', null).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  async findUserByIdentity(issuer: string, subject: string): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('user_identities')
      .innerJoin('users', 'users.id', 'user_identities.user_id')
      .select(['users.id', 'users.login', 'users.is_admin', 'users.created_at'])
      .where('user_identities.issuer', '=', issuer)
      .where('user_identities.subject', '=', subject)
      .executeTakeFirst();
    return row && toUser(row);
  }

  async createUserWithIdentity(login: string, issuer: string, subject: string): Promise<User> {
    try {
      return await this.db.transaction().execute(async (tx) => {
        const linked = await tx
          .selectFrom('user_identities')
          .select('user_id')
          .where('issuer', '=', issuer)
          .where('subject', '=', subject)
          .executeTakeFirst();
        if (linked) throw conflict('identity-exists', `the identity ${subject} at ${issuer} already has a user`);
        const taken = await tx.selectFrom('users').select('id').where('login', '=', login).executeTakeFirst();
        if (taken) throw conflict('user-exists', `a user named \`${login}\` already exists`);
        const at = now();
        const user = await tx.insertInto('users').values({ login, is_admin: 0, created_at: at }).returningAll().executeTakeFirstOrThrow();
        await tx.insertInto('user_identities').values({ issuer, subject, user_id: user.id, created_at: at }).execute();
        return toUser(user);
      });
    } catch (error) {
      // A concurrent first login of the same person, or of another with the same name.
      if (this.options.isUniqueViolation(error)) throw conflict('user-exists', `a user named \`${login}\` or that identity already exists`);
      throw error;
    }
  }

  async replaceGroups(userId: number, source: string, groups: readonly string[]): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const wanted = new Set(groups);
      const current = await tx.selectFrom('group_members').select(['group_name', 'source']).where('user_id', '=', userId).execute();
      const stale = current.filter((m) => m.source === source && !wanted.has(m.group_name)).map((m) => m.group_name);
      const have = new Set(current.map((m) => m.group_name));
      const missing = [...wanted].filter((g) => !have.has(g));
      if (stale.length > 0) {
        await tx
          .deleteFrom('group_members')
          .where('user_id', '=', userId)
          .where('source', '=', source)
          .where('group_name', 'in', stale)
          .execute();
      }
      const at = now();
      for (const group of missing) {
        await tx
          .insertInto('group_members')
          .values({ group_name: group, user_id: userId, created_at: at, source })
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
      if (stale.length === 0 && missing.length === 0) return false;
      await this.recordChange(tx, 'user', String(userId));
      return true;
    });
  }

  async recordIdTokenUse(issuer: string, jti: string, expiresAt: string): Promise<boolean> {
    // Forget what has expired: an expired ID token is refused before its jti is looked at.
    await this.db.deleteFrom('used_id_tokens').where('expires_at', '<', new Date(Date.now() - 3_600_000).toISOString()).execute();
    const result = await this.db
      .insertInto('used_id_tokens')
      .values({ issuer, jti, expires_at: expiresAt })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async getOrCreateSecret(name: string, create: () => string): Promise<string> {
    await this.db
      .insertInto('server_secrets')
      .values({ name, value: create(), created_at: now() })
      .onConflict((oc) => oc.doNothing())
      .execute();
    const row = await this.db.selectFrom('server_secrets').select('value').where('name', '=', name).executeTakeFirstOrThrow();
    return row.value;
  }

  async listTokens(userId: number): Promise<TokenRecord[]> {
    const rows = await this.db.selectFrom('tokens').selectAll().where('user_id', '=', userId).orderBy('id').execute();
    return rows.map(toToken);
  }

  async revokeToken(id: number): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const row = await tx
        .updateTable('tokens')
        .set({ revoked_at: now() })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .returning('token_hash')
        .executeTakeFirst();
      if (!row) return false;
      await this.recordChange(tx, 'token', row.token_hash);
      return true;
    });
  }

  async recordTokenUse(lastUse: ReadonlyMap<number, string>): Promise<void> {
    if (lastUse.size === 0) return;
    await this.db.transaction().execute(async (tx) => {
      for (const [id, at] of lastUse) {
        await tx.updateTable('tokens').set({ last_used_at: at }).where('id', '=', id).execute();
      }
    });
  }

  private crateByLowerName(db: Db, lowerName: string) {
    return db.selectFrom('crates').select(['id', 'name']).where('name_lower', '=', lowerName).executeTakeFirst();
  }

  async listVersions(lowerName: string): Promise<StoredVersion[] | undefined> {
    const crate = await this.crateByLowerName(this.db, lowerName);
    if (!crate) return undefined;
    const rows = await this.db
      .selectFrom('versions')
      .select(['entry_json', 'yanked'])
      .where('crate_id', '=', crate.id)
      .orderBy('id')
      .execute();
    return rows.map(toStoredVersion);
  }

  async listVersionsJson(lowerName: string): Promise<StoredVersionJson[] | undefined> {
    const crate = await this.crateByLowerName(this.db, lowerName);
    if (!crate) return undefined;
    const rows = await this.db
      .selectFrom('versions')
      .select(['entry_json', 'yanked'])
      .where('crate_id', '=', crate.id)
      .orderBy('id')
      .execute();
    return rows.map((row) => ({ entryJson: row.entry_json, yanked: row.yanked === 1 }));
  }

  async publishVersion(v: NewVersion): Promise<{ newCrate: boolean }> {
    return this.publishVersionOnce(v, false);
  }

  private async publishVersionOnce(v: NewVersion, retried: boolean): Promise<{ newCrate: boolean }> {
    const name = v.entry.name;
    try {
      return await this.db.transaction().execute(async (tx) => {
        let newCrate = false;
        let crate = await tx
          .selectFrom('crates')
          .select(['id', 'name'])
          .where('name_normalized', '=', v.normalizedName)
          .executeTakeFirst();
        if (crate && crate.name !== name) throw crateNameTaken(crate.name, name);
        if (!crate) {
          crate = await tx
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
          await tx
            .insertInto('crate_owners')
            .values({ crate_id: crate.id, user_id: v.publisherId, created_at: v.publishedAt })
            .execute();
          newCrate = true;
        } else {
          if (!(await this.isOwner(tx, crate.id, v.publisherId))) throw notAnOwner(name);
          await tx
            .updateTable('crates')
            .set({ description: v.details.description, updated_at: v.publishedAt })
            .where('id', '=', crate.id)
            .execute();
        }
        const existing = await tx
          .selectFrom('versions')
          .select('vers')
          .where('crate_id', '=', crate.id)
          .where('vers_key', '=', v.versionKey)
          .executeTakeFirst();
        if (existing) throw versionExists(name, existing.vers);
        await tx
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
        await this.recordChange(tx, 'crate', name.toLowerCase());
        return { newCrate };
      });
    } catch (error) {
      // Two writers raced past the checks above; the database's unique constraints decided. On
      // PostgreSQL the loser may have raced to create the crate, not the version: one more try
      // sees the winner's commit and gives the true answer.
      if (this.options.isUniqueViolation(error)) {
        if (!retried) return this.publishVersionOnce(v, true);
        throw versionExists(name, v.entry.vers);
      }
      throw error;
    }
  }

  async setYanked(lowerName: string, version: string, yanked: boolean): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const crate = await this.crateByLowerName(tx, lowerName);
      if (!crate) return false;
      const result = await tx
        .updateTable('versions')
        .set({ yanked: yanked ? 1 : 0 })
        .where('crate_id', '=', crate.id)
        .where('vers', '=', version)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      await this.recordChange(tx, 'crate', lowerName);
      return true;
    });
  }

  async findVersionBlob(lowerName: string, version: string): Promise<VersionBlob | undefined> {
    const row = await this.db
      .selectFrom('versions')
      .innerJoin('crates', 'crates.id', 'versions.crate_id')
      .select(['versions.blob_key', 'versions.size', 'versions.cksum'])
      .where('crates.name_lower', '=', lowerName)
      .where('versions.vers', '=', version)
      .executeTakeFirst();
    return row && { blobKey: row.blob_key, size: row.size, cksum: row.cksum };
  }

  async findCrateName(normalizedName: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('crates')
      .select('name')
      .where('name_normalized', '=', normalizedName)
      .executeTakeFirst();
    return row?.name;
  }

  async listOwners(lowerName: string): Promise<User[] | undefined> {
    const crate = await this.crateByLowerName(this.db, lowerName);
    if (!crate) return undefined;
    const rows = await this.db
      .selectFrom('crate_owners')
      .innerJoin('users', 'users.id', 'crate_owners.user_id')
      .select(['users.id', 'users.login', 'users.is_admin', 'users.created_at'])
      .where('crate_owners.crate_id', '=', crate.id)
      .orderBy('users.login')
      .execute();
    return rows.map(toUser);
  }

  /** A user owns a crate directly or through a group that owns it. */
  private async isOwner(db: Db, crateId: number, userId: number): Promise<boolean> {
    const direct = await db
      .selectFrom('crate_owners')
      .select('user_id')
      .where('crate_id', '=', crateId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (direct) return true;
    const viaGroup = await db
      .selectFrom('crate_owner_groups')
      .innerJoin('group_members', 'group_members.group_name', 'crate_owner_groups.group_name')
      .select('group_members.user_id')
      .where('crate_owner_groups.crate_id', '=', crateId)
      .where('group_members.user_id', '=', userId)
      .executeTakeFirst();
    return viaGroup !== undefined;
  }

  async listOwnerGroups(lowerName: string): Promise<string[] | undefined> {
    const crate = await this.crateByLowerName(this.db, lowerName);
    if (!crate) return undefined;
    const rows = await this.db
      .selectFrom('crate_owner_groups')
      .select('group_name')
      .where('crate_id', '=', crate.id)
      .orderBy('group_name')
      .execute();
    return rows.map((r) => r.group_name);
  }

  async addOwners(lowerName: string, userIds: number[], groups: string[] = []): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const crate = await this.crateByLowerName(tx, lowerName);
      if (!crate) return;
      for (const userId of userIds) {
        await tx
          .insertInto('crate_owners')
          .values({ crate_id: crate.id, user_id: userId, created_at: now() })
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
      for (const group of groups) {
        await tx
          .insertInto('crate_owner_groups')
          .values({ crate_id: crate.id, group_name: group, created_at: now() })
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
      await this.recordChange(tx, 'crate', lowerName);
    });
  }

  async removeOwners(lowerName: string, userIds: number[], groups: string[] = []): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const crate = await this.crateByLowerName(tx, lowerName);
      if (!crate || userIds.length + groups.length === 0) return;
      if (userIds.length > 0) {
        await tx.deleteFrom('crate_owners').where('crate_id', '=', crate.id).where('user_id', 'in', userIds).execute();
      }
      if (groups.length > 0) {
        await tx.deleteFrom('crate_owner_groups').where('crate_id', '=', crate.id).where('group_name', 'in', groups).execute();
      }
      const users = await tx
        .selectFrom('crate_owners')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('crate_id', '=', crate.id)
        .executeTakeFirstOrThrow();
      const ownerGroups = await tx
        .selectFrom('crate_owner_groups')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('crate_id', '=', crate.id)
        .executeTakeFirstOrThrow();
      // Rolling back keeps the owners as they were: a crate without owners could never change again.
      if (Number(users.n) + Number(ownerGroups.n) === 0) {
        throw conflict('last-owner', `cannot remove every owner of crate \`${crate.name}\`; add another owner first`);
      }
      await this.recordChange(tx, 'crate', lowerName);
    });
  }

  async searchCrates(
    query: string,
    limit: number,
    offset: number,
    visible?: (name: string) => boolean,
  ): Promise<{ total: number; hits: SearchHit[] }> {
    // Names match as crate names compare (`foo_bar` finds `Foo-Bar`); descriptions as text.
    const q = query.toLowerCase();
    const name = normalizeCrateName(q);
    const pattern = `%${escapeLike(q)}%`;
    const namePattern = `%${escapeLike(name)}%`;
    const matches = this.db
      .selectFrom('crates')
      .where((eb) =>
        eb.or([
          sql<boolean>`${eb.ref('name_normalized')} like ${namePattern} escape '\\'`,
          sql<boolean>`lower(coalesce(${eb.ref('description')}, '')) like ${pattern} escape '\\'`,
        ]),
      );
    const ranked = matches
      .select(['id', 'name', 'description'])
      .orderBy(sql`case when name_normalized = ${name} then 0 when name_normalized like ${escapeLike(name) + '%'} escape '\\' then 1 else 2 end`)
      .orderBy('name_lower');
    let total: number;
    let crates: { id: number; name: string; description: string | null }[];
    if (visible === undefined) {
      const totalRow = await matches.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
      total = Number(totalRow.n);
      crates = await ranked.limit(limit).offset(offset).execute();
    } else {
      // Visibility is decided outside SQL: rank every match, keep the visible ones, then page.
      const all = (await ranked.execute()).filter((c) => visible(c.name));
      total = all.length;
      crates = all.slice(offset, offset + limit);
    }
    const versions =
      crates.length === 0
        ? []
        : await this.db
            .selectFrom('versions')
            .select(['crate_id', 'entry_json', 'yanked'])
            .where(
              'crate_id',
              'in',
              crates.map((c) => c.id),
            )
            .orderBy('id')
            .execute();
    const hits = crates.map((c) => ({
      name: c.name,
      description: c.description,
      versions: versions.filter((v) => v.crate_id === c.id).map(toStoredVersion),
    }));
    return { total, hits };
  }

  async changesSince(seq: number): Promise<Change[]> {
    const rows = await this.db
      .selectFrom('changes')
      .select(['seq', 'kind', 'subject'])
      .where('seq', '>', seq)
      .orderBy('seq')
      .limit(10_000)
      .execute();
    return rows.map((r) => ({ seq: r.seq, kind: r.kind as Change['kind'], subject: r.subject }));
  }

  async latestChangeSeq(): Promise<number> {
    const row = await this.db
      .selectFrom('changes')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .executeTakeFirst();
    return Number(row?.seq ?? 0);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
