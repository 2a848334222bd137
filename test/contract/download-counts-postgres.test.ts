// The DownloadCounts contract on a real PostgreSQL 15: one server for this file, an empty
// database per test.

import { after, before } from 'node:test';
import { openPostgresDatabase } from '../../src/adapters/metadata/postgres.js';
import { startPostgresServer, type PostgresServer } from '../support/postgres-server.js';
import { downloadCountsContract } from './download-counts.contract.js';

let server: PostgresServer | undefined;
before(async () => {
  server = await startPostgresServer();
});
after(async () => {
  await server?.stop();
});

downloadCountsContract('postgres', async () => {
  if (!server) throw new Error('PostgreSQL did not start (see the failure of the `before` hook)');
  const database = await openPostgresDatabase(await server.createDatabase());
  return { counts: database.downloadCounts, close: () => database.close() };
});
