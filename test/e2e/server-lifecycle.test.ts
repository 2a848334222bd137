// The server as an operator meets it: configuration refused before the port opens, the CLI working
// on the data of a running server, graceful shutdown on SIGTERM, and an upload refused by size
// before it is read.

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { publishBodyFor } from '../support/crate-fixture.js';
import { eventually } from '../support/eventually.js';
import { httpRequest, publish } from '../support/http-client.js';
import { runCli, startRegistry } from '../support/registry-server.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

describe('server lifecycle', () => {
  it('validates the whole configuration before listening, reporting every problem', async () => {
    const dataDir = makeTempDir();
    const res = await runCli(['serve', '--port', 'abc', '--public-url', 'ftp://nowhere', '--data-dir', dataDir], {
      env: { CRATEKEEPER_AUTH__REQUIRED: 'maybe', CRATEKEEPER_SEVER__PORT: '1' },
    });
    assert.notEqual(res.code, 0);
    assert.doesNotMatch(res.stdout, /listening/);
    assert.match(res.stderr, /invalid configuration/);
    assert.match(res.stderr, /server\.port: expected an integer from 0 to 65535 \(from flag --port\)/);
    assert.match(res.stderr, /server\.public_url: expected an http:\/\/ or https:\/\/ URL/);
    assert.match(res.stderr, /auth\.required: expected true or false \(from environment variable CRATEKEEPER_AUTH__REQUIRED\)/);
    assert.match(res.stderr, /sever: unknown setting \(from environment variable CRATEKEEPER_SEVER__PORT\)/);
  });

  it('writes public_url into config.json and prints the admin token only on the first start', async () => {
    const server = await startRegistry({ args: ['--public-url', 'https://crates.example.com/'] });
    const config = await httpRequest(`${server.url}/index/config.json`, { headers: { authorization: server.adminToken! } });
    assert.deepEqual(JSON.parse(config.body.toString()), {
      dl: 'https://crates.example.com/api/v1/crates',
      api: 'https://crates.example.com',
      'auth-required': true,
    });
    const unauthenticated = await httpRequest(`${server.url}/index/config.json`);
    assert.equal(unauthenticated.headers['www-authenticate'], 'Cargo login_url="https://crates.example.com/me"');
    assert.equal(await server.stop(), 0);
    assert.equal(server.output().split(server.adminToken!).length - 1, 1, 'the token must be printed once and never logged');

    const again = await startRegistry({ dataDir: server.dataDir });
    assert.equal(again.adminToken, undefined);
    assert.doesNotMatch(again.output(), /first token/);
    // The token was stored, and only as a hash.
    const reused = await httpRequest(`${again.url}/index/config.json`, { headers: { authorization: server.adminToken! } });
    assert.equal(reused.status, 200);
    const { readFileSync } = await import('node:fs');
    const database = readFileSync(`${server.dataDir}/cratekeeper.sqlite3`);
    assert.equal(database.includes(Buffer.from(server.adminToken!)), false, 'the token is stored in clear');
    assert.equal(await again.stop(), 0);
  });

  it('lets the CLI add users and create and revoke tokens while the server runs', async () => {
    const server = await startRegistry({ env: { CRATEKEEPER_CACHE__POLL_INTERVAL_MS: '100' } });
    const dir = ['--data-dir', server.dataDir];
    const added = await runCli(['user', 'add', 'carol', ...dir]);
    assert.equal(added.code, 0, added.stderr);
    const duplicate = await runCli(['user', 'add', 'carol', ...dir]);
    assert.notEqual(duplicate.code, 0);
    assert.match(duplicate.stderr, /a user named `carol` already exists/);

    const created = await runCli(['token', 'create', '--user', 'carol', '--name', 'laptop', ...dir]);
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    assert.match(token, /^ckt_[0-9A-Za-z]{49}$/, 'token create prints the token alone');
    const read = () => httpRequest(`${server.url}/index/config.json`, { headers: { authorization: token } });
    assert.equal((await read()).status, 200);

    const list = await runCli(['token', 'list', '--user', 'carol', ...dir]);
    const row = list.stdout.split('\n').find((l) => l.includes('laptop'))!;
    assert.match(row, /^\d+\tlaptop\t\S+\t(never|\S+)\tnever\tactive\tall\tall$/);
    assert.doesNotMatch(list.stdout, /ckt_/, 'token list shows a secret');

    const revoked = await runCli(['token', 'revoke', row.split('\t')[0]!, ...dir]);
    assert.equal(revoked.code, 0, revoked.stderr);
    // The server learns of the revocation through the change feed within its poll interval.
    const deadline = Date.now() + 2_000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await read()).status;
    }
    assert.equal(status, 401);
    const again = await runCli(['token', 'revoke', row.split('\t')[0]!, ...dir]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /no active token has the id or name `2`/);
    assert.equal(await server.stop(), 0);
  });

  it('answers an internal failure with a generic 500 and logs the cause', async () => {
    const server = await startRegistry({ env: { CRATEKEEPER_LOG__LEVEL: 'error' } });
    const token = server.adminToken!;
    assert.equal((await publish(server.url, token, await publishBodyFor('fragile', '1.0.0'))).status, 200);
    // Lose the stored file behind the server's back.
    const { readdirSync, rmSync } = await import('node:fs');
    const folder = `${server.dataDir}/blobs/crates/fragile/1.0.0`;
    for (const file of readdirSync(folder)) rmSync(`${folder}/${file}`);
    const res = await httpRequest(`${server.url}/api/v1/crates/fragile/1.0.0/download`, { headers: { authorization: token } });
    assert.equal(res.status, 500);
    const detail = JSON.parse(res.body.toString()).errors[0].detail as string;
    assert.match(detail, /^internal server error; the server log has the cause \(request id \S+\)$/);
    assert.doesNotMatch(detail, /blob|fragile|\//, 'the detail leaks internals');
    // The logger writes asynchronously: the line may arrive after the answer.
    await eventually(() =>
      assert.match(server.output(), /the blob crates\/fragile\/1\.0\.0\/[0-9a-f]{64}\.crate of fragile@1\.0\.0 is missing from storage/),
    );
    assert.equal(await server.stop(), 0);
  });

  it('stops gracefully on a SIGTERM sent the moment the URL line is read', async () => {
    // A signal that raced the handler's installation used to kill the process outright.
    for (let i = 0; i < 5; i++) {
      const server = await startRegistry();
      assert.equal(await server.stop(), 0, `run ${i}: ${server.output()}`);
    }
  });

  it('on SIGTERM stops accepting, finishes the request in flight, and exits 0', async () => {
    const server = await startRegistry();
    const port = Number(new URL(server.url).port);
    const body = await publishBodyFor('in-flight', '1.0.0');
    // Send the headers and half the body, then SIGTERM, then the rest.
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path: '/api/v1/crates/new',
          headers: { authorization: server.adminToken!, 'content-length': body.length },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body: text }));
        },
      );
      req.on('error', reject);
      req.write(body.subarray(0, body.length / 2));
      setTimeout(() => {
        server.child.kill('SIGTERM');
        setTimeout(() => req.end(body.subarray(body.length / 2)), 300);
      }, 100);
    });
    const result = await response;
    assert.equal(result.status, 200, result.body);
    assert.equal(await server.stop(), 0);
    // New connections are refused once it has stopped.
    await assert.rejects(
      new Promise((resolve, reject) => connect(port, '127.0.0.1').on('connect', resolve).on('error', reject)),
      /ECONNREFUSED/,
    );
    // And the publish that was in flight is there after a restart.
    const restarted = await startRegistry({ dataDir: server.dataDir });
    const index = await httpRequest(`${restarted.url}/index/in/-f/in-flight`, { headers: { authorization: server.adminToken! } });
    assert.equal(index.status, 200);
    assert.equal(await restarted.stop(), 0);
  });

  it('refuses an oversized upload with 413 from its Content-Length, without reading the body', async () => {
    const server = await startRegistry({ env: { CRATEKEEPER_PUBLISH__MAX_SIZE: '64KiB' } });
    const port = Number(new URL(server.url).port);
    // Declare 100 MB and send none of it: the answer must come anyway.
    const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path: '/api/v1/crates/new',
          headers: { authorization: server.adminToken!, 'content-length': 100_000_000 },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body: text }));
        },
      );
      req.on('error', reject);
      req.flushHeaders();
    });
    assert.equal(result.status, 413);
    assert.match(JSON.parse(result.body).errors[0].detail, /too large \(100000000 bytes\): this registry accepts at most 65536 bytes/);

    // A streamed (chunked) upload without Content-Length is cut off at the limit too.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path: '/api/v1/crates/new',
          headers: { authorization: server.adminToken!, 'transfer-encoding': 'chunked' },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body: text }));
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write(Buffer.alloc(16 * 1024, 7));
    });
    assert.equal(chunked.status, 413);
    const small = await publish(server.url, server.adminToken!, await publishBodyFor('small', '1.0.0'));
    assert.equal(small.status, 200, small.body.toString());
    assert.equal(await server.stop(), 0);
  });
});
