// The package boundary, checked the way a user meets it: the client package is packed, its tarball
// installed alone into an empty folder (npm fetches its dependencies, from the npm cache when it
// can), and then neither the database drivers, the AWS SDK nor the web server may be there, while
// the installed `cratekeeper-client` answers cargo's credential protocol. Part of the whole suite,
// not of --fast (it runs npm and may reach the registry).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runProgram, type ProgramResult } from '@cratekeeper/test-support/run-program';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { assertCredentialAnswer, credentialGetRequest } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SERVER_ONLY = [
  'better-sqlite3',
  'better-sqlite3-12',
  'pg',
  'kysely',
  'fastify',
  '@aws-sdk',
  '@fastify',
  '@node-rs',
  'openid-client',
  'cratekeeper',
];

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Every package folder under a node_modules tree, nested ones included, as `name` or `@scope/name`. */
function installedPackages(nodeModules: string): string[] {
  if (!existsSync(nodeModules)) return [];
  const found: string[] = [];
  for (const entry of readdirSync(nodeModules)) {
    if (entry.startsWith('.')) continue;
    const names = entry.startsWith('@') ? readdirSync(join(nodeModules, entry)).map((n) => `${entry}/${n}`) : [entry];
    for (const name of names) {
      found.push(name);
      found.push(...installedPackages(join(nodeModules, name, 'node_modules')));
    }
  }
  return found;
}

function credentialHello(bin: string, netrc: string): Promise<ProgramResult> {
  const input = credentialGetRequest(['credential', '--netrc', netrc]);
  return runProgram(bin, ['--cargo-plugin'], { env: { PATH: process.env.PATH, HOME: makeTempDir() }, input });
}

void test(
  'the client package installs alone, without the server dependencies, and its bin speaks the credential protocol',
  { timeout: 600_000 },
  async () => {
    const packDir = makeTempDir('cratekeeper-pack-');
    const packed = JSON.parse(npm(['pack', '--workspace', 'packages/client', '--pack-destination', packDir, '--json'], ROOT)) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    assert.equal(packed.length, 1);
    const files = packed[0]!.files.map((f) => f.path);
    assert.ok(files.includes('dist/src/bin.js'), files.join(', '));
    assert.ok(files.includes('dist/src/network.d.ts'), files.join(', '));
    assert.equal(files.filter((f) => f.startsWith('dist/test/')).length, 0, 'the tests stay out of the tarball');

    const prefix = makeTempDir('cratekeeper-install-');
    writeFileSync(join(prefix, 'package.json'), JSON.stringify({ name: 'client-install-probe', private: true }));
    npm(['install', '--prefer-offline', join(packDir, packed[0]!.filename)], prefix);

    const installed = installedPackages(join(prefix, 'node_modules'));
    assert.ok(installed.includes('@cratekeeper/client'), installed.join(', '));
    assert.ok(installed.includes('commander'), installed.join(', '));
    const serverOnly = installed.filter((name) => SERVER_ONLY.some((s) => name === s || name.startsWith(`${s}/`)));
    assert.deepEqual(serverOnly, [], `server dependencies installed with the client package: ${serverOnly.join(', ')}`);

    const netrc = join(makeTempDir(), 'netrc');
    writeFileSync(netrc, 'machine reg.example.com login cargo password ckt_installed\n', { mode: 0o600 });
    const result = await credentialHello(join(prefix, 'node_modules', '.bin', 'cratekeeper-client'), netrc);
    assertCredentialAnswer(result, 'ckt_installed');
  },
);
