// The docs builder's sandbox and job folders (docs-sandbox.ts, docs-build-folder.ts): which paths a
// build sees, what the real sandbox lets a command inside do, and the clean-up of package configs
// and of what dead processes left behind. The whole path, with the real cargo, is in
// test/e2e/rustdoc-sandbox.test.ts.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { eventually } from '../support/eventually.js';
import { makeBuildRoot, makeJobFolders, removeAbandonedJobs, removeCargoConfigs } from '../../src/services/docs-build-folder.js';
import { sandboxed, sandboxLayout } from '../../src/services/docs-sandbox.js';

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('sandboxLayout', () => {
  const env = { PATH: '/opt/rust/bin:relative/bin::/:/usr/bin', RUSTUP_HOME: '/home/ck/.rustup' };

  it('shows the system and toolchain folders, never / nor a relative PATH entry', () => {
    const layout = sandboxLayout('/var/lib/ck/docs-builds/1-a', '/var/lib/ck/docs-builds/1-a/root', env, {
      dataDir: '/var/lib/ck',
      files: [],
    });
    for (const p of ['/usr', '/etc', '/lib', '/opt/rust/bin', '/home/ck/.rustup']) assert.ok(layout.visible.includes(p), p);
    assert.ok(!layout.visible.includes('/'));
    assert.ok(!layout.visible.some((p) => p.includes('relative')));
    assert.deepEqual(layout.hiddenFolders, ['/var/lib/ck']);
  });

  it("hides the configuration's folder, or only the file when the toolchain lives in that folder", () => {
    const secrets = { dataDir: '/var/lib/ck', files: ['/etc/ck/tls/key.pem'] };
    const own = sandboxLayout('/j', '/j/root', env, { ...secrets, configFile: '/etc/ck/cratekeeper.toml' });
    assert.deepEqual(own.hiddenFolders, ['/var/lib/ck', '/etc/ck']);
    assert.deepEqual(own.hiddenFiles, ['/etc/ck/tls/key.pem', '/etc/ck/cratekeeper.toml']);
    const inEtc = sandboxLayout('/j', '/j/root', env, { ...secrets, configFile: '/etc/cratekeeper.toml' });
    assert.deepEqual(inEtc.hiddenFolders, ['/var/lib/ck']);
    assert.ok(inEtc.hiddenFiles.includes('/etc/cratekeeper.toml'));
    const inHome = sandboxLayout('/j', '/j/root', env, { ...secrets, configFile: '/home/ck/cratekeeper.toml' });
    assert.deepEqual(inHome.hiddenFolders, ['/var/lib/ck']);
    assert.ok(inHome.hiddenFiles.includes('/home/ck/cratekeeper.toml'));
  });

  it('hides a symlinked secret at its real path too', () => {
    const real: Record<string, string> = { '/etc/cratekeeper.toml': '/srv/conf/ck.toml', '/var/lib/ck': '/data/ck' };
    const layout = sandboxLayout(
      '/j',
      '/j/root',
      env,
      { dataDir: '/var/lib/ck', configFile: '/etc/cratekeeper.toml', files: [] },
      (p) => real[p] ?? p,
    );
    assert.deepEqual(layout.hiddenFolders, ['/var/lib/ck', '/data/ck', '/srv/conf']);
    assert.deepEqual(layout.hiddenFiles, ['/etc/cratekeeper.toml', '/srv/conf/ck.toml']);
  });
});

describe('the sandbox, run for real', () => {
  it("lets a command write its job folder only, and see neither the data folder nor the configuration's", async () => {
    const dataDir = makeTempDir('cratekeeper-sandbox-data-');
    writeFileSync(join(dataDir, 'cratekeeper.sqlite3'), 'the database');
    const configDir = makeTempDir('cratekeeper-sandbox-config-');
    writeFileSync(join(configDir, 'cratekeeper.toml'), 'the configuration');
    const folders = await makeJobFolders(await makeBuildRoot(dataDir));
    const env = { PATH: process.env.PATH, HOME: folders.home };
    const layout = sandboxLayout(folders.job, folders.root, env, {
      dataDir,
      configFile: join(configDir, 'cratekeeper.toml'),
      files: [],
    });
    const script = [
      `cat ${dataDir}/cratekeeper.sqlite3 && echo READ-DB`,
      `cat ${configDir}/cratekeeper.toml && echo READ-CONFIG`,
      `echo x > ${dataDir}/planted && echo WROTE-DATA`,
      `echo x > /planted && echo WROTE-ROOT`,
      `echo x > ${folders.work}/made-inside && echo WROTE-JOB`,
      `ls /proc | grep -c '^[0-9]' | sed 's/^/PROCESSES=/'`,
      'true',
    ].join('; ');
    const { command, args } = sandboxed(layout, false, folders.work, ['/bin/sh', '-c', script]);
    const { code, out } = await run(command, args, env);
    assert.equal(code, 0, out);
    for (const word of ['READ-DB', 'READ-CONFIG', 'WROTE-DATA', 'WROTE-ROOT']) assert.ok(!out.includes(word), `${word}:\n${out}`);
    assert.match(out, /WROTE-JOB/);
    assert.equal(readFileSync(join(folders.work, 'made-inside'), 'utf8'), 'x\n');
    assert.ok(!existsSync(join(dataDir, 'planted')));
    // A PID namespace of its own: the shell, ls, grep and sed, not the host's processes.
    assert.ok(Number(/PROCESSES=(\d+)/.exec(out)?.[1]) < 10, out);
  });
  it('ends every process a command started, a detached one included, when the command ends', async () => {
    const dataDir = makeTempDir('cratekeeper-sandbox-data-');
    const folders = await makeJobFolders(await makeBuildRoot(dataDir));
    const env = { PATH: process.env.PATH, HOME: folders.home };
    const layout = sandboxLayout(folders.job, folders.root, env, { dataDir, files: [] });
    // A duration no other process here uses, to find the sleeper by its command line.
    const marker = `${1000 + Math.floor(Math.random() * 8000)}.${process.pid}`;
    const { command, args } = sandboxed(layout, false, folders.work, [
      '/bin/sh',
      '-c',
      `setsid sleep ${marker} >/dev/null 2>&1 & echo started`,
    ]);
    const { code, out } = await run(command, args, env);
    assert.equal(code, 0, out);
    assert.match(out, /started/);
    const sleepers = () =>
      readdirSync('/proc').filter((pid) => {
        try {
          return /^\d+$/.test(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`sleep\0${marker}`);
        } catch {
          return false;
        }
      });
    await eventually(() => assert.deepEqual(sleepers(), []), 10_000);
  });
});

describe('job folders', () => {
  it('removes every .cargo of an unpacked package, following no link, and nothing else', async () => {
    const source = makeTempDir('cratekeeper-source-');
    const outside = makeTempDir('cratekeeper-outside-');
    mkdirSync(join(outside, 'keep'));
    mkdirSync(join(source, 'pkg', '.cargo'), { recursive: true });
    writeFileSync(join(source, 'pkg', '.cargo', 'config.toml'), '[build]\n');
    mkdirSync(join(source, 'pkg', 'nested', '.cargo'), { recursive: true });
    symlinkSync(outside, join(source, 'pkg', 'link'));
    mkdirSync(join(source, 'pkg', 'src'));
    symlinkSync(join(outside, 'keep'), join(source, 'pkg', 'src', '.cargo'));
    const removed = await removeCargoConfigs(source);
    assert.deepEqual(removed.map((p) => p.slice(source.length)).sort(), ['/pkg/.cargo', '/pkg/nested/.cargo', '/pkg/src/.cargo']);
    assert.ok(existsSync(join(outside, 'keep')), 'a linked .cargo is removed as a link, its target kept');
    assert.ok(existsSync(join(source, 'pkg', 'link')));
  });

  it('removes what dead processes left in the build root, never a live one’s', async () => {
    const root = await makeBuildRoot(makeTempDir('cratekeeper-builds-'));
    const mine = await makeJobFolders(root);
    // A process that has exited: its PID is free (reuse within the test is very unlikely, and would only keep the folder).
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => dead.on('close', resolve));
    mkdirSync(join(root, `${dead.pid}-abc`));
    mkdirSync(join(root, `1-init`));
    await removeAbandonedJobs(root);
    assert.ok(existsSync(mine.job));
    assert.ok(existsSync(join(root, '1-init')), 'PID 1 runs');
    assert.ok(!existsSync(join(root, `${dead.pid}-abc`)));
  });
});
