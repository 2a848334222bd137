// One PostgreSQL server for the tests of a file or suite: started before them, stopped after them,
// also when one fails. The returned function gives the running server; a test that asks for it
// when it did not start fails saying why (the `before` hook's own failure has the server's log).

import { after, before } from 'node:test';
import { startPostgresServer, type PostgresServer } from './postgres-server.js';

export function postgresServerForTests(): () => PostgresServer {
  let server: PostgresServer | undefined;
  before(async () => {
    server = await startPostgresServer();
  });
  after(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('PostgreSQL did not start (see the failure of the `before` hook)');
    return server;
  };
}
