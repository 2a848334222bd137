// Shared rate-limit counters in the metadata database (SQLite or PostgreSQL): one row per limiter,
// minute and key, incremented with an atomic upsert so that concurrent replicas never lose a count.

import type { Kysely } from 'kysely';
import type { RateCounts } from '../../services/shared-rate-limiter.js';
import type { Database } from './sql-schema.js';

export class SqlRateCounts implements RateCounts {
  constructor(private readonly db: Kysely<Database>) {}

  async increment(limiter: string, key: string, window: number): Promise<number> {
    const row = await this.db
      .insertInto('rate_limit_counts')
      .values({ limiter, key, window_start: window, hits: 1 })
      .onConflict((oc) =>
        oc.columns(['limiter', 'window_start', 'key']).doUpdateSet((eb) => ({ hits: eb('rate_limit_counts.hits', '+', 1) })),
      )
      .returning('hits')
      .executeTakeFirstOrThrow();
    return Number(row.hits);
  }

  async keysAtLeast(limiter: string, window: number, min: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('rate_limit_counts')
      .select('key')
      .where('limiter', '=', limiter)
      .where('window_start', '=', window)
      .where('hits', '>=', min)
      .execute();
    return rows.map((r) => r.key);
  }

  async prune(window: number): Promise<void> {
    await this.db.deleteFrom('rate_limit_counts').where('window_start', '<', window).execute();
  }
}
