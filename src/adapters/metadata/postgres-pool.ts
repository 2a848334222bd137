// The `pg` pool as Kysely sees it, with what pg lacks for a server that stops answering (a network
// partition, a stuck failover, a frozen host), where the kernel may still accept connections:
// - Every query has a client-side deadline. pg's own `query_timeout` leaves the connection busy
//   with the unanswered query; here such a connection is marked broken, fails at once whatever
//   else is sent on it (the ROLLBACK of its transaction), and is destroyed when Kysely releases
//   it, never handed out again.
// - A failed connect, a lost connection, a deadline and the server's own "shutting down", "too
//   many connections", "statement timeout" answers become `unavailable` errors that name the
//   database (dependency-unavailable.ts). Text with a NUL character, which PostgreSQL cannot
//   hold, is the request's fault: `invalid` (a 400), not a 500. Other SQL errors (a unique
//   violation...) pass unchanged.
// - A connection that breaks while checked out between two queries is marked broken instead of
//   crashing the process with an unhandled 'error' event.
// The pool's own settings (connect and idle timeouts, keepalive, server-side timeouts) are
// postgres.ts's.

import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import pg from 'pg';
import { dependencyUnavailable } from '../dependency-unavailable.js';
import { textWithNul } from '../../domain/text.js';

// SQLSTATE classes and codes that say "the database cannot serve this now", not "this is wrong":
// 08 connection exception, 53 insufficient resources (too many connections, disk full), 57 operator
// intervention (statement timeout 57014, shutdown 57P01-57P03), 58 system error (I/O), 25P03 idle
// in transaction timeout, 55P03 lock not available (lock_timeout).
const UNAVAILABLE_CLASSES = ['08', '53', '57', '58'];
const UNAVAILABLE_CODES = new Set(['25P03', '55P03']);

function isServerUnavailable(error: pg.DatabaseError): boolean {
  const code = error.code ?? '';
  return UNAVAILABLE_CLASSES.includes(code.slice(0, 2)) || UNAVAILABLE_CODES.has(code);
}

/** Whether an error of a query means the connection itself can no longer be trusted. */
function breaksConnection(error: unknown): boolean {
  if (error instanceof pg.DatabaseError) return error.code?.startsWith('08') === true || error.code?.startsWith('57P') === true;
  // Anything but the server's answer or a programming error is the connection failing
  // ("Connection terminated unexpectedly", ECONNRESET, "not queryable"...).
  return !(error instanceof TypeError || error instanceof RangeError);
}

/** SQLSTATE 22021: a bound value is not valid text, which for a JavaScript string means a NUL. */
const CHARACTER_NOT_IN_REPERTOIRE = '22021';

function translate(error: unknown): unknown {
  if (error instanceof pg.DatabaseError) {
    if (error.code === CHARACTER_NOT_IN_REPERTOIRE) return textWithNul();
    return isServerUnavailable(error) ? dependencyUnavailable('database', error) : error;
  }
  return breaksConnection(error) ? dependencyUnavailable('database', error) : error;
}

/**
 * Statements sent by name (GuardedPool.prepare), until a connection shows that it cannot keep them:
 * a pooler between the registry and PostgreSQL (PgBouncer in transaction mode before 1.21) runs the
 * statement on a server connection that never parsed it (SQLSTATE 26000). From then on this
 * process sends every statement unnamed, as before, and the query that failed is sent again so.
 */
class PreparedStatements {
  private readonly names = new Map<string, string>();
  private kept = true;

  add(sql: string, name: string): void {
    this.names.set(sql, name);
  }

  nameOf(sql: string): string | undefined {
    return this.kept ? this.names.get(sql) : undefined;
  }

  /** Whether `error` of a statement sent by name says names are not kept; if so, none is used again. */
  lost(error: unknown): boolean {
    if (!(error instanceof pg.DatabaseError && error.code === '26000')) return false;
    this.kept = false;
    return true;
  }
}

export class GuardedPool implements PostgresPool {
  private readonly prepared = new PreparedStatements();

  /** `queryTimeoutMs`: a query with no answer after this long fails, and its connection is closed. */
  constructor(
    private readonly pool: pg.Pool,
    private readonly queryTimeoutMs: number,
  ) {
    // An idle connection that breaks is reported here (without a listener Node would crash); the
    // pool has already dropped it.
    pool.on('error', () => {});
  }

  async connect(): Promise<PostgresPoolClient> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw dependencyUnavailable('database', error);
    }
    return new GuardedClient(client, this.queryTimeoutMs, this.prepared);
  }

  /**
   * Sends the statement `sql` as a prepared statement named `name`: each connection has PostgreSQL
   * parse and plan it on first use and then only binds and runs it. For the few statements run
   * thousands of times a second (a cold index read: about a quarter of its time per query went
   * to parsing and planning, bench/README.md) or costly to parse (the audit log's append); every
   * other statement goes unnamed, so that a connection never holds more than these.
   */
  prepare(sql: string, name: string): void {
    this.prepared.add(sql, name);
  }

  /** pg-pool's end() drops its connections without waiting for the server's goodbye: a frozen server cannot hold it. */
  end(): Promise<void> {
    return this.pool.end();
  }
}

class GuardedClient implements PostgresPoolClient {
  /** Why this connection must not be used again, once something went wrong with it. */
  private broken: Error | undefined;
  private readonly onError = (error: Error) => {
    this.broken ??= error;
  };

  constructor(
    private readonly client: pg.PoolClient,
    private readonly timeoutMs: number,
    private readonly prepared: PreparedStatements,
  ) {
    client.on('error', this.onError);
  }

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(
    sqlOrCursor: string | PostgresCursor<R>,
    parameters?: ReadonlyArray<unknown>,
  ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    if (typeof sqlOrCursor !== 'string') throw new Error('cursors are not supported on this pool');
    if (this.broken) return Promise.reject(dependencyUnavailable('database', this.broken));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.broken ??= new Error(`PostgreSQL sent no answer to a query within ${this.timeoutMs} ms`);
        reject(dependencyUnavailable('database', this.broken));
      }, this.timeoutMs);
      const values = parameters as unknown[];
      const name = this.prepared.nameOf(sqlOrCursor);
      let answer = name === undefined ? this.client.query(sqlOrCursor, values) : this.client.query({ name, text: sqlOrCursor, values });
      if (name !== undefined) {
        answer = answer.catch((error: unknown) => {
          if (!this.prepared.lost(error)) throw error;
          return this.client.query(sqlOrCursor, values);
        });
      }
      answer.then(
        (result) => {
          clearTimeout(timer);
          resolve(result as unknown as PostgresQueryResult<R>);
        },
        (error: unknown) => {
          clearTimeout(timer);
          if (breaksConnection(error)) this.broken ??= error as Error;
          reject(translate(error));
        },
      );
    });
  }

  release(): void {
    this.client.removeListener('error', this.onError);
    // With an error, the pool closes the connection instead of keeping it (pg-pool's contract).
    this.client.release(this.broken);
  }
}
