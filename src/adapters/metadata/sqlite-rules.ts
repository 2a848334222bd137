// What SQLite needs of the shared SQL code (sql-scope.ts), for every connection that writes: the
// server's own (sqlite.ts) and the background writer's thread (sqlite-thread-worker.ts).

import type { SqlDialectRules } from './sql-scope.js';

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export const SQLITE_RULES: SqlDialectRules = { name: 'sqlite', isUniqueViolation };
