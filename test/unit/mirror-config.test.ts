// The [[upstreams]] configuration: defaults, validation with dotted paths, and the list form from
// environment variables.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { blessedList } from '../../src/mirror/crate-patterns.js';
import { crateDownloadUrl } from '../../src/mirror/download-url.js';
import { parseLockfile } from '../../src/mirror/lockfile.js';
import { SecretOrigins } from '../../src/mirror/secret-origins.js';
import { SingleFlight } from '../../src/lib/single-flight.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

function problems(toml: string, env: NodeJS.ProcessEnv = {}): string[] {
  const file = join(makeTempDir(), 'c.toml');
  writeFileSync(file, toml);
  try {
    loadConfig({ file, env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('mirror configuration', () => {
  it('has defaults and accepts sparse+ URLs', () => {
    const file = join(makeTempDir(), 'c.toml');
    writeFileSync(file, '[[upstreams]]\nname = "crates-io"\nindex_url = "sparse+https://index.crates.io/"\n');
    const [u] = loadConfig({ file }).upstreams;
    assert.equal(u!.index_url, 'https://index.crates.io/');
    assert.deepEqual([u!.allow, u!.deny, u!.offline, u!.main_index, u!.index_ttl_seconds], [['*'], [], false, false, 60]);
  });

  it('reports every problem with its dotted path', () => {
    const found = problems(`
[[upstreams]]
name = "Bad Name"
index_url = "https://example.com/index"
proxy = "ftp://x"
deny = ["ok*", "*bad"]
auth = { token_env = "T", netrc = "/x", pattern = "<nope>" }
`);
    assert.ok(
      found.some((p) => p.startsWith('upstreams.0.name: expected lower-case')),
      found.join('\n'),
    );
    assert.ok(
      found.some((p) => p.startsWith('upstreams.0.index_url: expected a sparse index URL')),
      found.join('\n'),
    );
    assert.ok(
      found.some((p) => p.startsWith('upstreams.0.proxy:')),
      found.join('\n'),
    );
    assert.ok(
      found.some((p) => p.startsWith('upstreams.0.deny.1:')),
      found.join('\n'),
    );
    assert.ok(
      found.some((p) => p.startsWith('upstreams.0.auth.pattern: unknown placeholder')),
      found.join('\n'),
    );
    assert.ok(
      found.some((p) => p.startsWith('upstreams.0.auth.token_env: give exactly one')),
      found.join('\n'),
    );
  });

  it('credential_origins: origins only, normalized; no plain http for an https upstream', () => {
    const file = join(makeTempDir(), 'c.toml');
    writeFileSync(
      file,
      '[[upstreams]]\nname = "p"\nindex_url = "https://reg.example/index/"\ncredential_origins = ["https://Static.Example:443", "https://cdn.example:8443/"]\n',
    );
    assert.deepEqual(loadConfig({ file }).upstreams[0]!.credential_origins, ['https://static.example', 'https://cdn.example:8443']);
    const found = problems(
      '[[upstreams]]\nname = "p"\nindex_url = "https://reg.example/index/"\n' +
        'credential_origins = ["https://cdn.example/files/", "https://user:pw@cdn.example", "ftp://cdn.example", "http://cdn.example"]\n',
    );
    assert.deepEqual(found, [
      'upstreams.0.credential_origins.0: expected an origin: http(s)://host or http(s)://host:port, with no path, user, query or fragment',
      'upstreams.0.credential_origins.1: expected an origin: http(s)://host or http(s)://host:port, with no path, user, query or fragment',
      'upstreams.0.credential_origins.2: expected an origin: http(s)://host or http(s)://host:port, with no path, user, query or fragment',
      'upstreams.0.credential_origins.3: http://cdn.example is plain http, and index_url is https: the credentials would travel unencrypted (use https://)',
    ]);
    assert.deepEqual(problems('[[upstreams]]\nname = "p"\nindex_url = 7\ncredential_origins = [1]\n').length, 2, 'no crash on wrong types');
    const env = loadConfig({
      env: {
        CRATEKEEPER_UPSTREAMS__0__NAME: 'up',
        CRATEKEEPER_UPSTREAMS__0__INDEX_URL: 'http://127.0.0.1:1/index/',
        CRATEKEEPER_UPSTREAMS__0__CREDENTIAL_ORIGINS: 'http://a.example:81, http://b.example',
      },
    });
    assert.deepEqual(env.upstreams[0]!.credential_origins, ['http://a.example:81', 'http://b.example']);
  });

  it('refuses two upstreams of one name', () => {
    const found = problems('[[upstreams]]\nname = "a"\nindex_url = "http://x/"\n[[upstreams]]\nname = "a"\nindex_url = "http://y/"\n');
    assert.deepEqual(found, ['upstreams.1.name: another upstream is also named "a"']);
  });

  it('takes the list from environment variables', () => {
    const config = loadConfig({
      env: {
        CRATEKEEPER_UPSTREAMS__0__NAME: 'up',
        CRATEKEEPER_UPSTREAMS__0__INDEX_URL: 'http://127.0.0.1:1/index/',
        CRATEKEEPER_UPSTREAMS__0__DENY: 'evil*,bad',
      },
    });
    assert.equal(config.upstreams[0]!.name, 'up');
    assert.deepEqual(config.upstreams[0]!.deny, ['evil*', 'bad']);
  });
});

describe('mirror helpers', () => {
  it('allow and deny: exact names and prefixes, in crates.io normal form', () => {
    const blessed = blessedList(['serde*', 'tokio'], ['serde_evil', 'serde-bad*']);
    assert.deepEqual(['serde', 'serde_json', 'Tokio', 'tokio-util', 'serde-evil', 'serde_bad_x'].map(blessed), [
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
  });

  it('download URLs follow cargo: markers, or /{crate}/{version}/download', () => {
    assert.equal(crateDownloadUrl('https://dl/api/v1/crates', 'Foo', '1.0.0+x', 'c'), 'https://dl/api/v1/crates/Foo/1.0.0+x/download');
    assert.equal(
      crateDownloadUrl('https://s/{prefix}/{lowerprefix}/{crate}-{version}-{sha256-checksum}', 'Abcd', '1', 'ff'),
      'https://s/Ab/cd/ab/cd/Abcd-1-ff',
    );
    assert.equal(crateDownloadUrl('https://s/{prefix}/{crate}', 'abc', '1', 'ff'), 'https://s/3/a/abc');
  });

  it('reads the registry packages of a Cargo.lock', () => {
    const lock = `version = 4\n[[package]]\nname = "app"\nversion = "0.1.0"\n\n[[package]]\nname = "itoa"\nversion = "1.0.1"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\nchecksum = "${'a'.repeat(64)}"\n`;
    assert.deepEqual(parseLockfile(lock), [
      { name: 'itoa', version: '1.0.1', source: 'registry+https://github.com/rust-lang/crates.io-index', checksum: 'a'.repeat(64) },
    ]);
  });

  it("secret origins: the index_url's origin and the listed ones, exactly (scheme, host, port)", () => {
    const origins = new SecretOrigins('https://reg.example/index/', ['https://cdn.example:8443']);
    const allows = (u: string) => origins.allows(new URL(u));
    assert.deepEqual(['https://reg.example/dl/x', 'https://REG.example:443/y', 'https://cdn.example:8443/z'].map(allows), [
      true,
      true,
      true,
    ]);
    assert.deepEqual(
      [
        'http://reg.example/dl/x',
        'https://reg.example:8443/',
        'https://evil-reg.example/',
        'https://reg.example.evil/',
        'https://cdn.example/',
      ].map(allows),
      [false, false, false, false, false],
    );
    assert.equal(origins.onHome(new URL('https://cdn.example:8443/files/a.crate?sig=1')).href, 'https://reg.example/files/a.crate?sig=1');
  });

  it('single-flight: concurrent callers share one task', async () => {
    const flight = new SingleFlight<number>();
    let runs = 0;
    const task = () => new Promise<number>((r) => setTimeout(() => r(++runs), 20));
    const results = await Promise.all(Array.from({ length: 10 }, () => flight.run('k', task)));
    assert.deepEqual(new Set(results), new Set([1]));
    assert.equal(await flight.run('k', task), 2);
  });
});
