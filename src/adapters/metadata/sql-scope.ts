// What every SQL repository works on: a connection or a transaction, and the few rules in which the
// dialects differ. A scope opened on a transaction is what makes a unit of work: repositories made
// on it write in that transaction, and their own atomic operations join it instead of opening one.

import type { Kysely, Transaction } from 'kysely';
import type { Database } from './sql-schema.js';

export type Db = Kysely<Database> | Transaction<Database>;

/** What differs between SQLite and PostgreSQL beyond the SQL that Kysely writes. */
export interface SqlDialectRules {
  name: 'sqlite' | 'postgres';
  isUniqueViolation(error: unknown): boolean;
  /** Runs in the writing transaction just before a change is recorded (PostgreSQL: orders the log by commit). */
  beforeRecordChange?(tx: Db): Promise<void>;
}

export class SqlScope {
  private constructor(
    readonly db: Db,
    readonly rules: SqlDialectRules,
    /** Whether `db` is a transaction that someone else commits. */
    readonly inTransaction: boolean,
  ) {}

  static onConnection(db: Kysely<Database>, rules: SqlDialectRules): SqlScope {
    return new SqlScope(db, rules, false);
  }

  /** Runs `work` in a new transaction, or in this scope's own when it is one. */
  atomically<T>(work: (tx: SqlScope) => Promise<T>): Promise<T> {
    if (this.inTransaction) return work(this);
    return (this.db as Kysely<Database>).transaction().execute((tx) => work(new SqlScope(tx, this.rules, true)));
  }
}
