// The server's `cratekeeper` command offers the client toolkit's commands, taken from the client
// package (@cratekeeper/client/commands): cargo may point its credential-provider at `cratekeeper`
// as well as at `cratekeeper-client`, in both forms cargo uses.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI_PATH } from '../support/registry-server.js';
import { assertCredentialAnswer, credentialGetRequest } from './helpers.js';
import { runProgram, type ProgramResult } from '@cratekeeper/test-support/run-program';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

function run(argv: string[], input: string): Promise<ProgramResult> {
  return runProgram(process.execPath, [CLI_PATH, ...argv], { env: { PATH: process.env.PATH, HOME: makeTempDir() }, input });
}

function netrcArgs(): string[] {
  const netrc = join(makeTempDir(), 'netrc');
  writeFileSync(netrc, 'machine reg.example.com login cargo password ckt_delegated\n', { mode: 0o600 });
  return ['credential', '--netrc', netrc];
}

void test('cratekeeper --cargo-plugin (as cargo starts a provider) answers from the client package', async () => {
  const result = await run(['--cargo-plugin'], credentialGetRequest(netrcArgs()));
  assertCredentialAnswer(result, 'ckt_delegated');
});

void test('cratekeeper credential --cargo-plugin answers too', async () => {
  const args = netrcArgs();
  const result = await run([...args, '--cargo-plugin'], credentialGetRequest(args));
  assertCredentialAnswer(result, 'ckt_delegated');
});

void test("cratekeeper proxy init-ca is offered, with the client package's options", async () => {
  const result = await run(['proxy', 'init-ca', '--help'], '');
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /--ca-dir <dir>/);
  assert.match(result.stdout, /name-constrained to the configured hosts/);
});

void test('cratekeeper login and logout are offered (terminal sign-in from the client package)', async () => {
  for (const command of ['login', 'logout']) {
    const result = await run([command, '--help'], '');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /--registry <name-or-url>/);
  }
});
