// `cratekeeper migrate`: brings the configured database's schema up to this build's, for SQLite
// and PostgreSQL alike. Safe to run while other replicas start or run migrations themselves: on
// PostgreSQL one session advisory lock lets one process migrate at a time, and every migration
// checks, inside its own transaction, that nobody applied it meanwhile.

import type { Config } from '../config/schema.js';
import type { OnProgress } from '../domain/progress.js';
import type { SchemaState } from '../ports/metadata-database.js';
import { openMetadataDatabase } from '../registry.js';

export async function migrateDatabase(config: Config, onProgress?: OnProgress): Promise<SchemaState> {
  const database = await openMetadataDatabase(config, 'apply', onProgress);
  try {
    return await database.schemaState();
  } finally {
    await database.close();
  }
}
