// `serve --workers 2`: several processes on one port behave as one registry.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { publishBodyFor } from '../support/crate-fixture.js';
import { httpRequest, publish } from '../support/http-client.js';
import { startRegistry } from '../support/registry-server.js';

function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('several serving processes', () => {
  it('serve on one port; a write through one is served by all at once, without waiting for the poll', async () => {
    // A poll interval of a minute: only the primary's nudge can make the siblings current.
    const server = await startRegistry({ args: ['--workers', '2'], env: { CRATEKEEPER_CACHE__POLL_INTERVAL_MS: '60000' } });
    const token = server.adminToken!;
    const workers = childPids(server.child.pid!);
    assert.equal(workers.length, 2, 'expected two worker processes');

    const read = async () => {
      const res = await httpRequest(`${server.url}/index/3/c/clu`, { headers: { authorization: token } });
      return res.status === 200 ? res.body.toString().trim().split('\n').length : 0;
    };
    // Warm both workers' caches with "no such crate".
    for (let i = 0; i < 10; i++) assert.equal(await read(), 0);
    for (const [n, version] of ['1.0.0', '1.1.0', '1.2.0'].entries()) {
      const res = await publish(server.url, token, await publishBodyFor('clu', version));
      assert.equal(res.status, 200, res.body.toString());
      await new Promise((r) => setTimeout(r, 50));
      // New connections each time, so both workers answer.
      const counts = await Promise.all(Array.from({ length: 20 }, read));
      assert.deepEqual(new Set(counts), new Set([n + 1]), `some worker served a stale index: ${counts}`);
    }
    assert.equal(await server.stop(), 0);
    for (const pid of workers) assert.equal(alive(pid), false, `worker ${pid} outlived the primary`);
  });

  it('replaces a worker that dies, and workers stop when the primary is killed', async () => {
    const server = await startRegistry({ args: ['--workers', '2'] });
    const [first] = childPids(server.child.pid!);
    process.kill(first!, 'SIGKILL');
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !(childPids(server.child.pid!).length === 2 && !childPids(server.child.pid!).includes(first!))) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const replaced = childPids(server.child.pid!);
    assert.equal(replaced.length, 2);
    assert.ok(!replaced.includes(first!));
    const res = await httpRequest(`${server.url}/index/config.json`, { headers: { authorization: server.adminToken! } });
    assert.equal(res.status, 200);

    await server.kill();
    const gone = Date.now() + 10_000;
    while (Date.now() < gone && replaced.some(alive)) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(replaced.filter(alive), [], 'workers kept serving after the primary died');
  });
});
