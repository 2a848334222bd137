// An admin answers "who downloaded version X of crate Y, and with which token" from the command line.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CargoSandbox } from '../support/cargo.js';
import { eventually } from '../support/eventually.js';
import { runCli, startRegistry } from '../support/registry-server.js';

describe('cratekeeper audit', () => {
  it('shows the downloads cargo made, with user, token and version', async () => {
    const server = await startRegistry({ env: { CRATEKEEPER_AUDIT__FLUSH_INTERVAL_MS: '100' } });
    const dir = ['--data-dir', server.dataDir];
    assert.equal((await runCli(['user', 'add', 'dana', ...dir])).code, 0);
    const token = (await runCli(['token', 'create', '--user', 'dana', '--name', 'build-box', ...dir])).stdout.trim();
    const tokenId = (await runCli(['token', 'list', '--user', 'dana', ...dir])).stdout.split('\n')[1]!.split('\t')[0];

    const cargo = new CargoSandbox();
    cargo.configure(`${server.url}/index/`);
    assert.equal((await cargo.run(['login', '--registry', 'ck'], { input: `${token}\n` })).code, 0);
    const pkg = cargo.createPackage({ name: 'watched', version: '0.3.0' });
    assert.equal((await cargo.run(['publish', '--registry', 'ck', '--allow-dirty', '--no-verify'], { cwd: pkg })).code, 0);
    const app = cargo.createApp('watcher', ['watched = { version = "0.3", registry = "ck" }'], 'fn main() {}\n');
    const fetched = await cargo.run(['fetch'], { cwd: app });
    assert.equal(fetched.code, 0, fetched.stderr);

    // The download is flushed to the audit log in a batch, shortly after cargo has its bytes.
    const rows = await eventually(async () => {
      const res = await runCli(['audit', '--crate', 'watched', '--since', '7d', '--action', 'download', ...dir]);
      assert.equal(res.code, 0, res.stderr);
      const lines = res.stdout.trim().split('\n');
      assert.equal(lines.length, 2, res.stdout);
      return lines;
    });
    assert.equal(rows[0], 'AT\tACTION\tUSER\tTOKEN\tCRATE\tVERSION\tADDRESS\tCOUNT\tDETAIL');
    const [, action, user, tokenColumn, crate, version] = rows[1]!.split('\t');
    assert.deepEqual([action, user, tokenColumn, crate, version], ['download', 'dana', tokenId, 'watched', '0.3.0']);

    const csv = await runCli(['audit', '--crate', 'watched', '--format', 'csv', ...dir]);
    assert.match(csv.stdout, /,publish,dana,/);
    assert.doesNotMatch(csv.stdout + rows.join('\n'), /ckt_/);
    const bad = await runCli(['audit', '--since', 'last tuesday', ...dir]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /`since` must be a date \(ISO 8601\) or a duration such as 7d/);
    assert.equal(await server.stop(), 0);
  });
});
