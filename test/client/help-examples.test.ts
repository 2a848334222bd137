// Every command's --help ends with an example: found by walking the real `cratekeeper --help` (and
// `cratekeeper-client --help`) down through each "Commands:" list, so a new command is covered too.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { CLI_PATH } from '../support/registry-server.js';
import { runProgram } from '@cratekeeper/test-support/run-program';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

const CLIENT_BIN = fileURLToPath(new URL('../../../node_modules/@cratekeeper/client/dist/src/bin.js', import.meta.url));

/** Example lines indented under a heading "Example:" / "Examples:" (optionally with a note), ending the text. */
const ENDS_WITH_EXAMPLE = /\nExamples?(?: \([^)]*\))?:\n(?: {2}.+\n)+$/;

async function help(bin: string, path: string[]): Promise<string> {
  const result = await runProgram(process.execPath, [bin, ...path, '--help'], { env: { PATH: process.env.PATH, HOME: makeTempDir() } });
  assert.equal(result.code, 0, `${path.join(' ')} --help: ${result.stderr}`);
  return result.stdout;
}

function subcommands(text: string): string[] {
  const section = text.split(/\nCommands:\n/)[1];
  if (section === undefined) return [];
  return section
    .split('\n')
    .map((line) => /^ {2}([a-z][a-z-]*)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== 'help');
}

async function walk(bin: string, path: string[], seen: string[]): Promise<void> {
  const text = await help(bin, path);
  seen.push(path.join(' '));
  assert.match(text, ENDS_WITH_EXAMPLE, `\`${[...path, '--help'].join(' ')}\` does not end with an example:\n${text}`);
  await Promise.all(subcommands(text).map((name) => walk(bin, [...path, name], seen)));
}

void test("every cratekeeper command's --help ends with an example", async () => {
  const seen: string[] = [];
  await walk(CLI_PATH, [], seen);
  // The walk reached the server's, the operations', the mirror's and the client toolkit's commands.
  for (const command of ['serve', 'user list', 'token revoke', 'token list', 'group add-member', 'audit', 'migrate', 'export', 'import']) {
    assert.ok(seen.includes(command), `${command} not reached: ${seen.join(', ')}`);
  }
  for (const command of [
    'mirror sync',
    'mirror status',
    'proxy',
    'proxy init-ca',
    'credential',
    'doctor',
    'login',
    'logout',
    'user disable',
    'user signout',
    'openapi',
    'policy',
    'policy check',
    'policy set',
    'policy hold',
    'policy release',
    'policy list',
  ])
    assert.ok(seen.includes(command), command);
});

void test("every cratekeeper-client command's --help ends with an example", async () => {
  const seen: string[] = [];
  await walk(CLIENT_BIN, [], seen);
  assert.deepEqual(seen.sort(), ['', 'credential', 'doctor', 'login', 'logout', 'policy', 'policy check', 'proxy', 'proxy init-ca']);
});
