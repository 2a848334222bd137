// What the real cargo shows when the registry refuses a publish for its size.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CargoSandbox } from '../support/cargo.js';
import { httpRequest } from '../support/http-client.js';
import { startRegistry } from '../support/registry-server.js';

describe('cargo publish over the size limit', () => {
  it('shows the 413 detail, and nothing is stored', async () => {
    const server = await startRegistry({ env: { CRATEKEEPER_PUBLISH__MAX_SIZE: '16KiB' } });
    const cargo = new CargoSandbox();
    cargo.configure(`${server.url}/index/`);
    assert.equal((await cargo.run(['login', '--registry', 'ck'], { input: `${server.adminToken}\n` })).code, 0);
    const pkg = cargo.createPackage({ name: 'too-big', version: '1.0.0' });
    writeFileSync(join(pkg, 'src', 'data.txt'), randomBytes(200_000).toString('base64'));
    const res = await cargo.run(['publish', '--registry', 'ck', '--allow-dirty', '--no-verify'], { cwd: pkg });
    assert.notEqual(res.code, 0);
    assert.match(
      res.stderr,
      /the remote server responded with an error \(status 413 Payload Too Large\): the upload is too large \(\d+ bytes\): this registry accepts at most 16384 bytes \(publish\.max_size\)/,
    );
    const index = await httpRequest(`${server.url}/index/to/o-/too-big`, { headers: { authorization: server.adminToken! } });
    assert.equal(index.status, 404);
    assert.equal(await server.stop(), 0);
  });
});
