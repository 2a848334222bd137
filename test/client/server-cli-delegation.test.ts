// The server's `cratekeeper` command offers the client toolkit's commands, taken from the client
// package (@cratekeeper/client/commands): cargo may point its credential-provider at `cratekeeper`
// as well as at `cratekeeper-client`, in both forms cargo uses.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI_PATH } from '../support/registry-server.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

function run(argv: string[], stdin: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...argv], { env: { PATH: process.env.PATH, HOME: makeTempDir() }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

function netrcArgs(): string[] {
  const netrc = join(makeTempDir(), 'netrc');
  writeFileSync(netrc, 'machine reg.example.com login cargo password ckt_delegated\n', { mode: 0o600 });
  return ['credential', '--netrc', netrc];
}

const request = (args: string[]) =>
  JSON.stringify({
    v: 1,
    registry: { 'index-url': 'sparse+https://reg.example.com/index/', name: 'r' },
    kind: 'get',
    operation: 'read',
    args,
  }) + '\n';

const answer = { Ok: { kind: 'get', token: 'ckt_delegated', operation_independent: true, cache: 'session' } };

void test('cratekeeper --cargo-plugin (as cargo starts a provider) answers from the client package', async () => {
  const result = await run(['--cargo-plugin'], request(netrcArgs()));
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(
    result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown),
    [{ v: [1] }, answer],
  );
});

void test('cratekeeper credential --cargo-plugin answers too', async () => {
  const args = netrcArgs();
  const result = await run([...args, '--cargo-plugin'], request(args));
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(
    result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown),
    [{ v: [1] }, answer],
  );
});

void test("cratekeeper proxy init-ca is offered, with the client package's options", async () => {
  const result = await run(['proxy', 'init-ca', '--help'], '');
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /--ca-dir <dir>/);
  assert.match(result.stdout, /name-constrained to the configured hosts/);
});
