// The credential provider as cargo runs it: the compiled CLI as a child process, JSON lines in and
// out. Covers each request kind, the answers cargo relies on (not-found, cache "expires") and clear
// errors for bad input (malformed JSON, .netrc syntax, auth file keys, readable .netrc).

import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLIENT_BIN } from './support/client-bin.js';
import { runProgram } from '@cratekeeper/test-support/run-program';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

interface Run {
  code: number | null;
  lines: unknown[];
  stderr: string;
}

async function provider(argv: string[], requests: Array<string | object>, env: Record<string, string> = {}): Promise<Run> {
  const input = requests.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';
  const { code, stdout, stderr } = await runProgram(process.execPath, [CLIENT_BIN, ...argv], {
    env: { PATH: process.env.PATH, HOME: makeTempDir(), ...env },
    input,
  });
  const lines = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as unknown);
  return { code, stderr, lines };
}

const get = (indexUrl: string, operation = 'read', args: string[] = ['credential']) => ({
  v: 1,
  registry: { 'index-url': indexUrl, name: 'r' },
  kind: 'get',
  operation,
  args,
});

function setup(netrcText: string, authToml?: string) {
  const dir = makeTempDir();
  const netrc = join(dir, 'netrc');
  writeFileSync(netrc, netrcText, { mode: 0o600 });
  const auth = join(dir, 'auth.toml');
  if (authToml !== undefined) writeFileSync(auth, authToml);
  return { dir, netrc, auth, args: ['credential', '--netrc', netrc, ...(authToml !== undefined ? ['--auth-config', auth] : [])] };
}

void test('get: hello, token from .netrc, not-found for other hosts', async () => {
  const { args } = setup('machine reg.example.com login cargo password ckt_abc\n', '[hosts."api.example.com"]\nauth = "bearer"\n');
  const run = await provider(
    ['--cargo-plugin'],
    [
      get('sparse+https://reg.example.com/index/', 'read', args),
      get('sparse+https://reg.example.com/index/', 'publish', args),
      get('sparse+https://unknown.example.com/index/', 'read', args),
      get('sparse+https://api.example.com/index/', 'read', args),
    ],
  );
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.lines, [
    { v: [1] },
    { Ok: { kind: 'get', token: 'ckt_abc', operation_independent: true, cache: 'session' } },
    { Ok: { kind: 'get', token: 'ckt_abc', operation_independent: true, cache: 'session' } },
    { Err: { kind: 'not-found' } },
    { Err: { kind: 'not-found' } },
  ]);
});

void test('get: a token command answers with cache "expires" and its expiry', async () => {
  const { args, dir } = setup('', '');
  // args: credential --netrc FILE --auth-config FILE
  const script = join(dir, 'issue.mjs');
  writeFileSync(script, 'console.log(JSON.stringify({ authorizationToken: "short-lived", expiration: "2030-01-02T03:04:05Z" }))\n');
  writeFileSync(
    args[4]!,
    `[hosts."ca.example.com:8443"]\nauth = "bearer"\ntoken_command = [${JSON.stringify(process.execPath)}, ${JSON.stringify(script)}]\n`,
  );
  // Options on the command line (a wrapper script may pass them) and the .netrc from $NETRC.
  const run = await provider(
    ['credential', '--auth-config', args[4]!, '--cargo-plugin'],
    [get('sparse+https://ca.example.com:8443/cargo/', 'read', [])],
    {
      NETRC: args[2]!,
    },
  );
  assert.deepEqual(run.lines[1], {
    Ok: {
      kind: 'get',
      token: 'Bearer short-lived',
      operation_independent: true,
      cache: 'expires',
      expiration: Date.parse('2030-01-02T03:04:05Z') / 1000,
    },
  });
});

void test('login writes the .netrc (0600), logout removes the entry and keeps the rest', async () => {
  const dir = makeTempDir();
  const netrc = join(dir, 'created.netrc');
  const args = ['credential', '--netrc', netrc];
  const index = { 'index-url': 'sparse+http://127.0.0.1:9000/index/', name: 'ck' };
  const run = await provider(['--cargo-plugin'], [{ v: 1, registry: index, kind: 'login', token: 'ckt_new', args }]);
  assert.deepEqual(run.lines[1], { Ok: { kind: 'login' } });
  assert.equal(readFileSync(netrc, 'utf8'), 'machine 127.0.0.1 login cargo password ckt_new\n');
  assert.equal(statSync(netrc).mode & 0o777, 0o600);

  writeFileSync(netrc, '# keep me\nmachine 127.0.0.1 login me password old\nmachine other login o password p\n');
  const again = await provider(
    ['--cargo-plugin'],
    [
      { v: 1, registry: index, kind: 'login', token: 'ckt_rotated', args },
      get(index['index-url'], 'read', args),
      { v: 1, registry: index, kind: 'logout', args },
      { v: 1, registry: index, kind: 'logout', args },
    ],
  );
  assert.deepEqual(again.lines.slice(1), [
    { Ok: { kind: 'login' } },
    { Ok: { kind: 'get', token: 'ckt_rotated', operation_independent: true, cache: 'session' } },
    { Ok: { kind: 'logout' } },
    { Err: { kind: 'not-found' } },
  ]);
  assert.equal(readFileSync(netrc, 'utf8'), '# keep me\nmachine other login o password p\n');
  assert.equal(existsSync(join(dir, `.created.netrc.${process.pid}.tmp`)), false);
});

void test('bad protocol input: an error answer naming the line, a message on stderr, exit status 1', async () => {
  const run = await provider(
    ['--cargo-plugin'],
    ['{"v":1,"registry":', { v: 2, registry: { 'index-url': 'x' }, kind: 'get' }, { v: 1, kind: 'get' }, [1, 2]],
  );
  assert.equal(run.code, 1);
  const messages = run.lines.slice(1).map((l) => (l as { Err: { kind: string; message: string } }).Err);
  assert.ok(messages.every((m) => m.kind === 'other'));
  assert.match(messages[0]!.message, /bad request on line 1: not valid JSON/);
  assert.match(messages[1]!.message, /line 2: unsupported protocol version 2/);
  assert.match(messages[2]!.message, /line 3: missing "registry"."index-url"/);
  assert.match(messages[3]!.message, /line 4: expected a JSON object/);
  assert.match(run.stderr, /cratekeeper credential: request on line 1: not valid JSON/);
});

void test('bad files: .netrc syntax with its line, auth file with its key, readable .netrc with the fix', async () => {
  const broken = setup('machine reg.example.com\n  login x\n  pasword y\n');
  const badToml = setup('', '[hosts."reg.example.com"]\nauth = "bearer"\nheader = "Bad Header"\n');
  const open = setup('machine reg.example.com password x\n');
  chmodSync(open.netrc, 0o644);
  const url = 'sparse+https://reg.example.com/index/';
  const run = await provider(
    ['--cargo-plugin'],
    [
      get(url, 'read', broken.args),
      get(url, 'read', badToml.args),
      get(url, 'read', open.args),
      get(url, 'read', [...open.args, '--allow-insecure-netrc']),
      get(url, 'read', ['credential', '--bogus']),
    ],
  );
  const [syntax, toml, perms, allowed, unknownArg] = run.lines.slice(1) as Array<{ Err?: { message: string }; Ok?: { token: string } }>;
  assert.equal(
    syntax?.Err?.message,
    `${broken.netrc}:3: unknown keyword \`pasword\` (expected login, password, account, macdef, machine or default)`,
  );
  assert.equal(toml?.Err?.message, `${badToml.auth}: hosts."reg.example.com".header: expected a header name, e.g. "Authorization"`);
  assert.match(perms?.Err?.message ?? '', new RegExp(`chmod 600 ${open.netrc}`));
  assert.equal(allowed?.Ok?.token, 'x');
  assert.match(unknownArg?.Err?.message ?? '', /unknown argument `--bogus`/);
  assert.equal(run.code, 0, 'well-formed requests with bad files are answered, not a protocol failure');
});

void test('a host whose pattern needs another header is sent to the proxy', async () => {
  const { args } = setup(
    'machine reg.example.com login u password p\n',
    '[hosts."reg.example.com"]\nheader = "X-Api-Key"\nauth = "<password>"\n',
  );
  const run = await provider(['--cargo-plugin'], [get('sparse+https://reg.example.com/', 'read', args)]);
  assert.match(
    (run.lines[1] as { Err: { message: string } }).Err.message,
    /sends X-Api-Key; cargo can only send one Authorization header, so use `cratekeeper proxy`/,
  );
});

void test('the .netrc `default` entry: never without auth.toml, only for hosts that opt in with one', async () => {
  const netrcText = 'machine reg.example.com login cargo password ckt_abc\ndefault login anon password default-secret\n';
  // No auth.toml anywhere (HOME is empty): cargo asking about any other registry gets not-found, so it
  // never sends the fallback password to a host the user did not name.
  const bare = setup(netrcText);
  const run = await provider(
    ['--cargo-plugin'],
    [
      get('sparse+https://reg.example.com/index/', 'read', bare.args),
      get('sparse+https://attacker.example.net/index/', 'read', bare.args),
      get('sparse+https://attacker.example.net/index/', 'publish', bare.args),
    ],
  );
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.lines.slice(1), [
    { Ok: { kind: 'get', token: 'ckt_abc', operation_independent: true, cache: 'session' } },
    { Err: { kind: 'not-found' } },
    { Err: { kind: 'not-found' } },
  ]);

  // The opt-in: a host listed with use_netrc_default = true; a listed host without it and an
  // unlisted host still get nothing.
  const optIn = setup(
    netrcText,
    '[hosts."legacy.example.com"]\nuse_netrc_default = true\n\n[hosts."listed.example.com"]\nauth = "bearer"\n',
  );
  const opted = await provider(
    ['--cargo-plugin'],
    [
      get('sparse+https://legacy.example.com/index/', 'read', optIn.args),
      get('sparse+https://listed.example.com/index/', 'read', optIn.args),
      get('sparse+https://attacker.example.net/index/', 'read', optIn.args),
    ],
  );
  assert.deepEqual(opted.lines.slice(1), [
    { Ok: { kind: 'get', token: 'default-secret', operation_independent: true, cache: 'session' } },
    { Err: { kind: 'not-found' } },
    { Err: { kind: 'not-found' } },
  ]);

  // The old switch for every host is refused with the fix, not silently honoured.
  const legacy = setup(netrcText, 'netrc_default = true\n');
  const refused = await provider(['--cargo-plugin'], [get('sparse+https://attacker.example.net/index/', 'read', legacy.args)]);
  const message = (refused.lines[1] as { Err: { kind: string; message: string } }).Err.message;
  assert.match(message, /netrc_default: the \.netrc `default` entry cannot answer for every host/);
  assert.match(message, /use_netrc_default = true/);
  assert.doesNotMatch(JSON.stringify(refused.lines), /default-secret/);
});

void test("answers without loading the proxy's certificate code (cargo starts it for every command)", async () => {
  const { args, dir } = setup('machine reg.example.com login cargo password ckt_abc\n');
  // Reported as the process exits: the CommonJS modules it loaded from @peculiar (x509 is one).
  const preload = join(dir, 'report-modules.cjs');
  writeFileSync(
    preload,
    "process.on('exit', () => process.stderr.write('peculiar modules: ' + Object.keys(require.cache).filter((f) => f.includes('@peculiar')).length + '\\n'));\n",
  );
  const input = JSON.stringify(get('sparse+https://reg.example.com/index/', 'read', args)) + '\n';
  const { code, stdout, stderr } = await runProgram(process.execPath, ['--require', preload, CLIENT_BIN, '--cargo-plugin'], {
    env: { PATH: process.env.PATH, HOME: makeTempDir() },
    input,
  });
  assert.equal(code, 0, stderr);
  assert.match(stdout, /"token":"ckt_abc"/, 'it answered');
  assert.match(stderr, /peculiar modules: 0\n/);
});
