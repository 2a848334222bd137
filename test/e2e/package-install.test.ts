// The server as a user installs it from the packed tarballs: `npm pack` of the root (its prepack
// builds dist) and of the client package it depends on (which is not on the npm registry), both
// installed globally into an empty prefix, and then the installed `cratekeeper` must say its
// version and show `serve --help`, which loads the CLI and @cratekeeper/client's commands from the
// installed files. Part of the whole suite, not of --fast (it runs npm and may reach the registry).
// Install scripts are skipped: better-sqlite3 12's native build takes minutes where no prebuilt
// binary can be downloaded, and neither command opens a database. The SQLite driver that this Node
// needs (src/adapters/metadata/sqlite-driver.ts) must be among the installed dependencies: npm
// leaves out the optional one whose engines refuse this Node.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runProgram } from '@cratekeeper/test-support/run-program';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { sqliteDriverPackage } from '../../src/adapters/metadata/sqlite-driver.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

void test('the packed server and client tarballs install globally, and the installed cratekeeper runs', { timeout: 600_000 }, async () => {
  const packDir = makeTempDir('cratekeeper-pack-');
  const packed = JSON.parse(
    npm(['pack', '--workspace', 'packages/client', '--include-workspace-root', '--pack-destination', packDir, '--json'], ROOT),
  ) as Array<{
    name: string;
    filename: string;
    files: Array<{ path: string }>;
  }>;
  assert.deepEqual(packed.map((p) => p.name).sort(), ['@cratekeeper/client', 'cratekeeper']);
  const server = packed.find((p) => p.name === 'cratekeeper')!;
  const files = server.files.map((f) => f.path);
  for (const built of ['dist/cli/main.js', 'dist/src/server.js', 'dist/src/workers/cpu-tasks.js']) {
    assert.ok(files.includes(built), `${built} is not in the tarball: ${files.join(', ')}`);
  }
  assert.equal(files.filter((f) => f.startsWith('dist/test/')).length, 0, 'the tests stay out of the tarball');

  const prefix = makeTempDir('cratekeeper-global-');
  npm(
    ['install', '--global', '--prefix', prefix, '--prefer-offline', '--ignore-scripts', ...packed.map((p) => join(packDir, p.filename))],
    ROOT,
  );

  const installed = join(prefix, 'lib', 'node_modules', 'cratekeeper', 'node_modules');
  const driver = sqliteDriverPackage(process.versions.node);
  const driverManifest = JSON.parse(readFileSync(join(installed, driver, 'package.json'), 'utf8')) as { name: string; version: string };
  assert.equal(driverManifest.name, 'better-sqlite3');
  assert.equal(
    driverManifest.version.split('.')[0],
    driver === 'better-sqlite3-12' ? '12' : '13',
    `${driver} is better-sqlite3 ${driverManifest.version}`,
  );

  const bin = join(prefix, 'bin', 'cratekeeper');
  // The installed command is the launcher (bin/cratekeeper, tested in launcher.test.ts), not main.js.
  assert.match(readFileSync(bin, 'utf8'), /^#!\/bin\/sh\n[^]*MALLOC_MMAP_THRESHOLD_/);
  const env = { PATH: process.env.PATH, HOME: makeTempDir() };
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const printed = await runProgram(bin, ['--version'], { env, cwd: prefix });
  assert.equal(printed.code, 0, printed.stderr);
  assert.equal(printed.stdout, `${version}\n`);

  const help = await runProgram(bin, ['serve', '--help'], { env, cwd: prefix });
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: cratekeeper serve \[options\]/);
  assert.match(help.stdout, /--port <port>/);
});
