// The one place that loads the SQLite driver. No single major of better-sqlite3 runs on every Node
// cratekeeper supports: 12 (a V8 addon, compiled for one Node) aborts the process on Node 24.19 and
// later when the garbage collector frees a statement or a database (Node's ObjectWrap then removes
// an environment cleanup hook with no current environment), and 13 (Node-API, prebuilt binaries
// inside its npm package) fixes that but needs Node 22 and crashes on Node 20. Both are optional
// dependencies, 12 under the npm alias `better-sqlite3-12`: npm skips 13 on Node 20 and leaves out a
// 12 that fails to compile. The driver is loaded when a database is opened, not when this module is
// imported, so a PostgreSQL registry never needs it. The types are 12's (@types/better-sqlite3); 13
// kept that API.

import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

/** better-sqlite3's Database class: `new SqliteDriver(file, options)` opens a connection. */
export type SqliteDriver = typeof BetterSqlite3;

/** The first Node major that better-sqlite3 13 supports; older ones get 12. */
const NODE_API_DRIVER_FROM_MAJOR = 22;

/** The installed package name of the driver for this Node version (`process.versions.node`). */
export function sqliteDriverPackage(nodeVersion: string): 'better-sqlite3' | 'better-sqlite3-12' {
  const major = Number(nodeVersion.split('.')[0]);
  return major >= NODE_API_DRIVER_FROM_MAJOR ? 'better-sqlite3' : 'better-sqlite3-12';
}

/** Printed as one line by the CLI, like a configuration error. */
export class SqliteDriverMissingError extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'RegistryError';
  }
}

function isMissingModule(error: unknown, name: string): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === 'MODULE_NOT_FOUND' && typeof message === 'string' && message.includes(`'${name}'`);
}

/**
 * The driver for `nodeVersion` (the running Node's by default), resolved from `from` (this module's
 * own location by default, where npm installed cratekeeper's dependencies).
 */
export function loadSqliteDriver(nodeVersion: string = process.versions.node, from: string | URL = import.meta.url): SqliteDriver {
  const name = sqliteDriverPackage(nodeVersion);
  try {
    return createRequire(from)(name) as SqliteDriver;
  } catch (error) {
    if (!isMissingModule(error, name)) throw error;
    const driver =
      name === 'better-sqlite3-12'
        ? 'better-sqlite3 12, installed as better-sqlite3-12 (it compiles from source where no prebuilt binary can be downloaded, which needs python3, make and a C++ compiler)'
        : 'better-sqlite3 13';
    throw new SqliteDriverMissingError(
      `the SQLite database needs ${driver} on Node ${nodeVersion}, and it is not installed: npm leaves out an optional dependency that fails to install (or all of them with --omit=optional). Reinstall cratekeeper under this Node and read npm's output, or use PostgreSQL (database.url)`,
      { cause: error },
    );
  }
}

/**
 * The file of the driver this thread loaded. A worker thread (sqlite-threads.ts) loads the same file
 * by this path: it needs no package resolution of its own, and gets the driver the main thread got
 * even where module resolution hooks, which Node does not carry into worker threads, chose it.
 */
export function sqliteDriverPath(): string {
  const driver = loadSqliteDriver();
  for (const [file, loaded] of Object.entries(createRequire(import.meta.url).cache)) if (loaded?.exports === driver) return file;
  throw new Error('the SQLite driver is loaded, but not from a file in the module cache');
}

/** Opens a better-sqlite3 connection with the driver for this Node, or with the one at `driverPath` (sqliteDriverPath). */
export function openSqliteConnection(file: string, options?: BetterSqlite3.Options, driverPath?: string): BetterSqlite3.Database {
  const Database = driverPath === undefined ? loadSqliteDriver() : (createRequire(import.meta.url)(driverPath) as SqliteDriver);
  return new Database(file, options);
}
