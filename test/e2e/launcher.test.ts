// The `cratekeeper` command as installed is bin/cratekeeper, a shell script that sets glibc's mmap
// threshold and arena count and then becomes Node (exec): the serving process must carry the
// settings, be Node itself (so that a service manager's SIGTERM reaches the server and not a
// shell), and keep values the caller chose. Linux only, as the server's deployments are: it reads
// /proc.

import assert from 'node:assert/strict';
import { readFileSync, realpathSync } from 'node:fs';
import { test } from 'node:test';
import { startRegistry } from '../support/registry-server.js';

function environmentOf(pid: number): Map<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return new Map(entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
}

void test('the launcher starts the server as Node itself, with glibc mmap threshold fixed at 128 KiB and two arenas', async () => {
  // Empty counts as unset (the test process's own environment is merged under `env`).
  const registry = await startRegistry({ viaLauncher: true, env: { MALLOC_MMAP_THRESHOLD_: '', MALLOC_ARENA_MAX: '' } });
  try {
    const pid = registry.child.pid!;
    assert.equal(environmentOf(pid).get('MALLOC_MMAP_THRESHOLD_'), '131072');
    assert.equal(environmentOf(pid).get('MALLOC_ARENA_MAX'), '2');
    assert.equal(realpathSync(`/proc/${pid}/exe`), realpathSync(process.execPath), 'the shell replaced itself with Node');
    const health = await fetch(`${registry.url}/healthz`);
    assert.equal(health.status, 200);
  } finally {
    assert.equal(await registry.stop(), 0, `a SIGTERM to the launched process stops the server cleanly:\n${registry.output()}`);
  }
});

void test('a threshold and an arena count set by the caller are kept', async () => {
  const registry = await startRegistry({ viaLauncher: true, env: { MALLOC_MMAP_THRESHOLD_: '65536', MALLOC_ARENA_MAX: '8' } });
  try {
    assert.equal(environmentOf(registry.child.pid!).get('MALLOC_MMAP_THRESHOLD_'), '65536');
    assert.equal(environmentOf(registry.child.pid!).get('MALLOC_ARENA_MAX'), '8');
  } finally {
    await registry.stop();
  }
});
