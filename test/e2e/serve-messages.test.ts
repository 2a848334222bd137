// What `cratekeeper serve` says to the person who started it: the cargo setup on a first start, how
// to make a way in when no administrator can sign in, the listening line once (also with workers),
// and logs as JSON lines when stderr is not a terminal, readable lines when it is.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { eventually } from '../support/eventually.js';
import { httpRequest } from '../support/http-client.js';
import { CLI_PATH, runCli, startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

const linesOf = (text: string) => text.split('\n').filter((line) => line.trim() !== '');

// One request first, so that the stop is the graceful one (see migrate.test.ts).
async function stop(server: RunningRegistry): Promise<void> {
  await httpRequest(`${server.url}/healthz`);
  assert.equal(await server.stop(), 0, server.output());
}

describe('serve messages', () => {
  it('on a first start prints the token, the exact config.toml lines, cargo login and the sign-in URL, before the listening line', async () => {
    const server = await startRegistry({ env: { CRATEKEEPER_LOGIN__REGISTRY_NAME: 'acme' } });
    const out = server.output();
    const expected = [
      `created user admin; its first token (shown only this once): ${server.adminToken}`,
      '',
      'To use this registry with cargo, add to ~/.cargo/config.toml:',
      '',
      '  [registries.acme]',
      `  index = "sparse+${server.url}/index/"`,
      '  credential-provider = "cargo:token"',
      '',
      'then log in (paste the token above when cargo asks):',
      '',
      '  cargo login --registry acme',
      '',
      `Sign in to the web pages at ${server.url}/sign-in with the same token.`,
      '',
      `cratekeeper listening on ${server.url}`,
    ].join('\n');
    assert.ok(out.includes(expected), out);
    await stop(server);

    const again = await startRegistry({ dataDir: server.dataDir });
    assert.doesNotMatch(again.output(), /config\.toml|warning/);
    await stop(again);
  });

  it('when no administrator can sign in, prints the exact command that makes a way in, and it works', async () => {
    const first = await startRegistry();
    await stop(first);
    const dir = ['--data-dir', first.dataDir];
    const revoked = await runCli(['token', 'revoke', 'initial admin token', ...dir]);
    assert.equal(revoked.code, 0, revoked.stderr);

    const locked = await startRegistry({ dataDir: first.dataDir });
    const out = locked.output();
    assert.match(out, /warning: no administrator can sign in \(admin: no password, no OpenID identity, no token with every scope\)/);
    const command = `cratekeeper token create --user admin --name admin-sign-in --data-dir ${first.dataDir}`;
    assert.ok(out.includes(`\n  ${command}\n`), out);
    assert.ok(out.includes(`sign in at ${locked.url}/sign-in with the token it prints`), out);
    await stop(locked);

    const made = await runCli(command.split(' ').slice(1));
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /^ckt_/);
    const fine = await startRegistry({ dataDir: first.dataDir });
    assert.doesNotMatch(fine.output(), /warning/);
    await stop(fine);
  });

  it('says it is listening once, and logs JSON lines when stderr is not a terminal', async () => {
    const server = await startRegistry({ env: { CRATEKEEPER_LOG__LEVEL: 'debug' } });
    // The debug line with the details comes from the logger, maybe after the stdout line.
    const logged = await eventually(() => {
      const line = linesOf(server.output()).find((l) => l.includes('"serving"'));
      assert.ok(line, server.output());
      return JSON.parse(line) as { msg: string; url: string; level: number };
    });
    assert.deepEqual([logged.msg, logged.url, logged.level], ['serving', server.url, 20]);
    await stop(server);
    const lines = linesOf(server.output());
    assert.deepEqual(
      lines.filter((l) => /listening/i.test(l)),
      [`cratekeeper listening on ${server.url}`],
    );
    const logLines = lines.filter((l) => l.startsWith('{'));
    assert.ok(logLines.length >= 2, server.output());
    for (const line of logLines) assert.equal(typeof (JSON.parse(line) as { level: unknown }).level, 'number');
  });

  it('with several workers, says it is listening once', async () => {
    const server = await startRegistry({ args: ['--workers', '2'], env: { CRATEKEEPER_LOG__LEVEL: 'debug' } });
    // Both workers have logged their debug line before the primary prints the URL.
    await eventually(() => assert.equal(linesOf(server.output()).filter((l) => l.includes('"serving"')).length, 2, server.output()));
    await stop(server);
    assert.deepEqual(
      linesOf(server.output()).filter((l) => /listening/i.test(l)),
      [`cratekeeper listening on ${server.url}`],
    );
  });

  it('log.format = "pretty" writes readable lines instead of JSON; on a terminal that is the default', async () => {
    const forced = await startRegistry({ env: { CRATEKEEPER_LOG__LEVEL: 'debug', CRATEKEEPER_LOG__FORMAT: 'pretty' } });
    await eventually(() => assert.match(forced.output(), /DEBUG.*: serving\n\s+url: "http/));
    await stop(forced);
    assert.doesNotMatch(forced.output(), /^\{"level"/m);

    // A pseudo-terminal from util-linux's `script`: stdout and stderr are both the terminal.
    const dataDir = makeTempDir('cratekeeper-tty-');
    const command = `'${process.execPath}' '${CLI_PATH}' serve --host 127.0.0.1 --port 0 --data-dir '${dataDir}'`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      env: { ...process.env, CRATEKEEPER_LOG__LEVEL: 'debug', CRATEKEEPER_LOG__FORMAT: 'auto', TERM: 'xterm' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await eventually(() => assert.match(output, /DEBUG.*: .*serving/), 30_000);
      assert.match(output, /\u001b\[\d+m/, 'coloured on a terminal');
      assert.doesNotMatch(output, /\{"level"/);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
