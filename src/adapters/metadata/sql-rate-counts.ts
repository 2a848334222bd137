// Shared rate-limit counters in the metadata database (SQLite or PostgreSQL): one row per limiter,
// minute and key. A process adds its collected events in batches, with an atomic upsert per row so
// that concurrent replicas never lose a count; the sliding window (lib/sliding-window.ts) reads
// a key's current and previous minute.

import type { Kysely } from 'kysely';
import type { KeyCounts, RateCounts } from '../../ports/rate-counts.js';
import type { Database } from './sql-schema.js';

/** Rows per statement: 4 parameters each stays far below SQLite's and PostgreSQL's limits. */
const ROWS_PER_STATEMENT = 500;

export class SqlRateCounts implements RateCounts {
  constructor(private readonly db: Kysely<Database>) {}

  async add(limiter: string, window: number, events: ReadonlyMap<string, number>): Promise<void> {
    const rows = [...events].map(([key, hits]) => ({ limiter, key, window_start: window, hits }));
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
      await this.db
        .insertInto('rate_limit_counts')
        .values(rows.slice(i, i + ROWS_PER_STATEMENT))
        .onConflict((oc) =>
          oc
            .columns(['limiter', 'window_start', 'key'])
            .doUpdateSet((eb) => ({ hits: eb('rate_limit_counts.hits', '+', eb.ref('excluded.hits')) })),
        )
        .execute();
    }
  }

  async busyKeys(limiter: string, window: number, min: number): Promise<Map<string, KeyCounts>> {
    const rows = await this.db
      .selectFrom('rate_limit_counts')
      .select((eb) => [
        'key',
        eb.fn.sum<number | string>(eb.case().when('window_start', '=', window).then(eb.ref('hits')).else(0).end()).as('current'),
        eb.fn.sum<number | string>(eb.case().when('window_start', '=', window).then(0).else(eb.ref('hits')).end()).as('previous'),
      ])
      .where('limiter', '=', limiter)
      .where('window_start', 'in', [window - 1, window])
      .groupBy('key')
      .having((eb) => eb.fn.sum('hits'), '>=', min)
      .execute();
    // PostgreSQL's sum of integers is a bigint, which pg returns as a string.
    return new Map(rows.map((r) => [r.key, { previous: Number(r.previous), current: Number(r.current) }]));
  }

  async prune(window: number): Promise<void> {
    await this.db.deleteFrom('rate_limit_counts').where('window_start', '<', window).execute();
  }
}
