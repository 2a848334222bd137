// Auth patterns and the auth file: what each pattern sends, which key a mistake is reported under,
// and which credentials a URL gets (exact host and port, the `default` entry's limits, operations).

import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { AuthConfigError, parseAuthConfig } from '../src/auth-config.js';
import { AuthPatternError, parseAuthPattern, renderAuthPattern } from '../src/auth-pattern.js';
import { authenticatedFetch } from '../src/authenticated-fetch.js';
import { CredentialResolver } from '../src/credential-resolver.js';
import { parseNetrc } from '../src/netrc-parse.js';

const creds = { login: 'alice', password: 's3cret' };

void test('patterns: basic, bearer, token, custom_prefix and templates', () => {
  const render = (p: string) => renderAuthPattern(parseAuthPattern(p), creds, 'test');
  assert.equal(render('basic'), `Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
  assert.equal(render('bearer'), 'Bearer s3cret');
  assert.equal(render('token'), 's3cret');
  assert.equal(render('token <password>'), 'token s3cret');
  assert.equal(render('<login>/<password>'), 'alice/s3cret');
  assert.equal(render('custom_prefix:Token'), 'Token s3cret');
  assert.equal(render('custom_prefix:prefix=token'), 'token s3cret');
  assert.throws(() => parseAuthPattern('Bearer <secret>'), /unknown placeholder `<secret>`/);
  assert.throws(() => parseAuthPattern('Negotiate'), /not a pattern/);
  assert.throws(() => renderAuthPattern(parseAuthPattern('basic'), { login: undefined, password: 'x' }, 'h'), AuthPatternError);
  assert.throws(() => renderAuthPattern(parseAuthPattern('bearer'), { login: 'a', password: 'x\r\nX-Evil: 1' }, 'h'), /control character/);
});

void test('auth file errors name the key, all of them at once', () => {
  const text = [
    'netrc_defualt = true',
    '[hosts."registry.example.com"]',
    'auth = "Bearer <secret>"',
    'use_netrc_default = "yes"',
    '[hosts."registry.example.com".operations.downloads]',
    'path_prefix = "/dl/"',
    '[hosts."registry.example.com".operations.api]',
    'auth = "bearer"',
    '[hosts."bad host"]',
    'auth = "basic"',
    '[hosts."ok.example.com"]',
    'token_command = "aws codeartifact"',
  ].join('\n');
  assert.throws(
    () => parseAuthConfig(text, '/etc/auth.toml'),
    (error: unknown) => {
      assert.ok(error instanceof AuthConfigError);
      assert.deepEqual(error.problems, [
        'netrc_defualt: unknown key (expected one of netrc_default, allow_insecure_netrc, hosts)',
        'hosts."registry.example.com".auth: unknown placeholder `<secret>` in `Bearer <secret>` (only <login> and <password> exist)',
        'hosts."registry.example.com".operations.downloads: unknown operation (expected index, download, api)',
        'hosts."registry.example.com".operations.api.path_prefix: required (the URL path this operation\'s requests start with, e.g. "/index/")',
        'hosts."registry.example.com".use_netrc_default: expected true or false',
        'hosts."bad host": `bad host` is not a host name (expected e.g. `registry.example.com` or `registry.example.com:8443`)',
        'hosts."ok.example.com".token_command: expected a non-empty array of strings, e.g. ["aws", "codeartifact", "get-authorization-token", ...]',
      ]);
      assert.ok(error.message.startsWith('/etc/auth.toml: '));
      return true;
    },
  );
  assert.throws(() => parseAuthConfig('[hosts\nx = 1', 'a.toml'), /a\.toml: line 1, column \d+/);
});

const NETRC = parseNetrc(
  [
    'machine registry.example.com login alice password reg-secret',
    'machine registry.example.com:8443 login bob password port-secret',
    'machine plain.example.com login carol password plain-secret',
    'default login anon password default-secret',
  ].join('\n'),
);

const CONFIG = parseAuthConfig(`
[hosts."registry.example.com"]
auth = "bearer"

[hosts."registry.example.com:8443"]
auth = "basic"

[hosts."split.example.com"]
auth = "bearer"
use_netrc_default = true
[hosts."split.example.com".operations.index]
path_prefix = "/index/"
auth = "token <password>"
[hosts."split.example.com".operations.download]
path_prefix = ["/dl/", "/api/v1/crates/dl/"]
auth = "basic"
[hosts."split.example.com".operations.api]
path_prefix = "/api/"
header = "X-Api-Key"
auth = "<password>"
headers = { "X-User" = "<login>" }

[hosts."nodefault.example.com"]
auth = "bearer"
`);

async function headers(url: string, operation?: 'index' | 'download' | 'api', config = CONFIG) {
  const resolved = await new CredentialResolver({ config, netrc: NETRC }).resolve(new URL(url), operation);
  return resolved?.headers;
}

void test('matching: exact host, and the port when the key names one', async () => {
  assert.deepEqual(await headers('https://registry.example.com/index/config.json'), [['Authorization', 'Bearer reg-secret']]);
  assert.deepEqual(await headers('https://REGISTRY.example.com:8443/x'), [
    ['Authorization', `Basic ${Buffer.from('bob:port-secret').toString('base64')}`],
  ]);
  // Not the same host: a suffix, a prefix, a different label. Nothing at all: the `default` entry
  // answers only for hosts that opt in.
  assert.equal(await headers('https://evil-registry.example.com/'), undefined);
  assert.equal(await headers('https://registry.example.com.evil.net/'), undefined);
  // A netrc-only host gets its password as-is, as cargo sends tokens.
  assert.deepEqual(await headers('http://plain.example.com/'), [['Authorization', 'plain-secret']]);
});

void test('the default entry: only for a configured host that says use_netrc_default = true', async () => {
  assert.equal(await headers('https://nodefault.example.com/'), undefined);
  assert.deepEqual(await headers('https://split.example.com/index/x'), [['Authorization', 'token default-secret']]);
  // With no auth file at all (an empty configuration), no host gets it; named machines still answer.
  const none = parseAuthConfig('');
  assert.equal(await headers('https://unknown.example.com/', undefined, none), undefined);
  assert.deepEqual(await headers('https://plain.example.com/', undefined, none), [['Authorization', 'plain-secret']]);
  // The old switch for every unlisted host: `false` is what happens anyway; `true` is refused with the fix.
  assert.equal(await headers('https://unknown.example.com/', undefined, parseAuthConfig('netrc_default = false\n')), undefined);
  assert.throws(
    () => parseAuthConfig('netrc_default = true\n', 'auth.toml'),
    (error: unknown) => {
      assert.ok(error instanceof AuthConfigError);
      assert.deepEqual(error.problems, [
        'netrc_default: the .netrc `default` entry cannot answer for every host (its password would go to any registry that asks); ' +
          'opt in per host instead: use_netrc_default = true under [hosts."<host>"]',
      ]);
      return true;
    },
  );
});

void test('per-operation headers, by operation name or by path prefix', async () => {
  const basic = `Basic ${Buffer.from('anon:default-secret').toString('base64')}`;
  assert.deepEqual(await headers('https://split.example.com/index/se/rd/serde'), [['Authorization', 'token default-secret']]);
  assert.deepEqual(await headers('https://split.example.com/dl/serde/1.0.0'), [['Authorization', basic]]);
  assert.deepEqual(await headers('https://split.example.com/api/v1/crates/dl/serde'), [['Authorization', basic]], 'longest prefix wins');
  assert.deepEqual(await headers('https://split.example.com/api/v1/crates/new'), [
    ['X-Api-Key', 'default-secret'],
    ['X-User', 'anon'],
  ]);
  assert.deepEqual(await headers('https://split.example.com/other'), [['Authorization', 'Bearer default-secret']], 'base rule elsewhere');
  assert.deepEqual(await headers('https://split.example.com/whatever', 'download'), [['Authorization', basic]]);
});

void test('token commands: run once, reused until shortly before expiry', async () => {
  const config = parseAuthConfig('[hosts."ca.example.com"]\nauth = "bearer"\ntoken_command = ["issue"]\n');
  let now = 1_000_000;
  let calls = 0;
  const resolver = new CredentialResolver({
    config,
    netrc: undefined,
    now: () => now,
    runTokenCommand: async (command, env) => {
      calls++;
      assert.deepEqual(command, ['issue']);
      assert.equal(env.CRATEKEEPER_HOST, 'ca.example.com');
      return { token: `t${calls}`, expiresAt: now + 3600 };
    },
  });
  const first = await resolver.resolve(new URL('https://ca.example.com/index/config.json'));
  assert.deepEqual(first?.headers, [['Authorization', 'Bearer t1']]);
  assert.equal(first?.expiresAt, 1_003_600);
  now += 3000;
  assert.deepEqual((await resolver.resolve(new URL('https://ca.example.com/x')))?.headers, [['Authorization', 'Bearer t1']]);
  now += 560;
  assert.deepEqual((await resolver.resolve(new URL('https://ca.example.com/x')))?.headers, [['Authorization', 'Bearer t2']]);
  assert.equal(calls, 2);
});

async function listen(
  handler: (url: string, headers: IncomingHttpHeaders) => [number, Record<string, string>],
  host = '127.0.0.1',
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const [status, headers] = handler(req.url!, req.headers);
    res.writeHead(status, headers).end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

void test("a redirect to another host never carries the first host's credentials", async () => {
  const seen: Array<[string, string | undefined]> = [];
  const storage = await listen((url, h) => {
    seen.push([`storage${url}`, h.authorization]);
    return [200, {}];
  }, '::1');
  const registry = await listen((url, h) => {
    seen.push([`registry${url}`, h.authorization]);
    return url === '/dl' ? [302, { location: `http://[::1]:${storage.port}/blob` }] : [200, {}];
  });
  try {
    const config = parseAuthConfig(`[hosts."127.0.0.1:${registry.port}"]\nauth = "bearer"\n`);
    const netrc = parseNetrc('machine 127.0.0.1 password reg-secret\n');
    const resolver = new CredentialResolver({ config, netrc });
    const response = await authenticatedFetch(resolver, `http://127.0.0.1:${registry.port}/dl`, {
      headers: { authorization: 'caller-set' },
    });
    assert.equal(response.status, 200);
    assert.deepEqual(seen, [
      ['registry/dl', 'Bearer reg-secret'],
      ['storage/blob', undefined],
    ]);
  } finally {
    registry.server.close();
    storage.server.close();
  }
});
