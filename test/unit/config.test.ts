import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  return assert.fail('the configuration was accepted');
}

function configFile(text: string): string {
  const file = join(makeTempDir(), 'cratekeeper.toml');
  writeFileSync(file, text);
  return file;
}

describe('configuration', () => {
  it('has embedded defaults', () => {
    const config = loadConfig({});
    assert.equal(config.server.host, '127.0.0.1');
    assert.equal(config.server.port, 8000);
    assert.equal(config.auth.required, true);
    assert.equal(config.publish.max_size, 10 * 1024 * 1024);
    assert.equal(config.storage.data_dir, './data');
  });

  it('takes flag over env over file over default', () => {
    const file = configFile('[server]\nport = 1111\nhost = "0.0.0.0"\n[auth]\nrequired = false\n[publish]\nmax_size = "2MiB"\n');
    const env = { CRATEKEEPER_SERVER__PORT: '2222', CRATEKEEPER_SERVER__HOST: '::1' };
    const config = loadConfig({ file, env, flags: { 'server.port': '3333' } });
    assert.equal(config.server.port, 3333);
    assert.equal(config.server.host, '::1');
    assert.equal(config.auth.required, false);
    assert.equal(config.publish.max_size, 2 * 1024 * 1024);
    assert.equal(loadConfig({ file, env }).server.port, 2222);
    assert.equal(loadConfig({ file }).server.port, 1111);
  });

  it('reads typed values from the environment', () => {
    const config = loadConfig({
      env: {
        CRATEKEEPER_AUTH__REQUIRED: 'false',
        CRATEKEEPER_PUBLISH__ALLOWED_REGISTRIES: 'https://a.example/index, https://b.example/index',
        CRATEKEEPER_CACHE__INDEX_BYTES: '1KiB',
        CRATEKEEPER_FAULT: 'ignored, not a setting',
      },
    });
    assert.equal(config.auth.required, false);
    assert.deepEqual(config.publish.allowed_registries, ['https://a.example/index', 'https://b.example/index']);
    assert.equal(config.cache.index_bytes, 1024);
  });

  it('reports every problem at once, with its dotted path and source', () => {
    const file = configFile('[server]\nport = 70000\npublic_url = "ftp://x"\n[sever]\nport = 1\n[publish]\nmax_size = "lots"\n');
    const problems = problemsOf(() =>
      loadConfig({
        file,
        env: { CRATEKEEPER_AUTH__REQUIRED: 'maybe', CRATEKEEPER_AUTH__NOPE: '1' },
        flags: { 'server.tls_cert': '/no/such/cert.pem' },
      }),
    );
    const text = problems.join('\n');
    assert.match(text, /server\.port: expected an integer from 0 to 65535.*\(from file /);
    assert.match(text, /server\.public_url: expected an http:\/\/ or https:\/\/ URL/);
    assert.match(text, /sever: unknown setting \(from file /);
    assert.match(text, /publish\.max_size: expected a size/);
    assert.match(text, /auth\.required: expected true or false \(from environment variable CRATEKEEPER_AUTH__REQUIRED\)/);
    assert.match(text, /auth\.nope: unknown setting \(from environment variable CRATEKEEPER_AUTH__NOPE\)/);
    assert.match(text, /server\.tls_cert: no such file \(from flag --tls-cert\)/);
    assert.ok(problems.length >= 7, text);
  });

  it('chooses PostgreSQL and S3, and checks what they need', () => {
    const config = loadConfig({
      env: {
        CRATEKEEPER_DATABASE__URL: 'postgres://ck@127.0.0.1:5432/ck',
        CRATEKEEPER_STORAGE__KIND: 's3',
        CRATEKEEPER_STORAGE__S3__BUCKET: 'crates',
        CRATEKEEPER_STORAGE__S3__ENDPOINT: 'http://127.0.0.1:9000',
        CRATEKEEPER_STORAGE__S3__FORCE_PATH_STYLE: 'true',
      },
    });
    assert.equal(config.database.url, 'postgres://ck@127.0.0.1:5432/ck');
    assert.deepEqual(
      { kind: config.storage.kind, bucket: config.storage.s3.bucket, pathStyle: config.storage.s3.force_path_style },
      { kind: 's3', bucket: 'crates', pathStyle: true },
    );
    const problems = problemsOf(() =>
      loadConfig({
        env: {
          CRATEKEEPER_DATABASE__URL: 'mysql://x',
          CRATEKEEPER_STORAGE__KIND: 's3',
          CRATEKEEPER_STORAGE__S3__ACCESS_KEY_ID: 'AKIA',
        },
      }),
    ).join('\n');
    assert.match(problems, /database\.url: expected a postgres:\/\/ URL/);
    assert.match(problems, /storage\.s3\.bucket: required when storage\.kind is "s3"/);
    assert.match(problems, /storage\.s3\.secret_access_key: access_key_id and secret_access_key must be given together/);
    assert.match(
      problemsOf(() => loadConfig({ env: { CRATEKEEPER_STORAGE__KIND: 'ftp' } })).join('\n'),
      /storage\.kind: expected "fs" or "s3"/,
    );
  });

  it('has prompt timeouts for every dependency, and keeps the client-side query deadline past the server-side one', () => {
    const config = loadConfig({});
    assert.deepEqual(
      {
        readiness: config.server.readiness_timeout_ms,
        database: [
          config.database.connect_timeout_ms,
          config.database.query_timeout_ms,
          config.database.statement_timeout_ms,
          config.database.busy_timeout_ms,
        ],
        s3: [config.storage.s3.connect_timeout_ms, config.storage.s3.timeout_ms, config.storage.s3.max_attempts],
      },
      { readiness: 2_000, database: [3_000, 6_000, 5_000, 5_000], s3: [3_000, 5_000, 2] },
    );
    const oidc = loadConfig({
      env: { CRATEKEEPER_OIDC__ISSUER_URL: 'https://id.example', CRATEKEEPER_OIDC__CLIENT_ID: 'ck', CRATEKEEPER_OIDC__CLIENT_SECRET: 's' },
    });
    assert.equal(oidc.oidc?.timeout_ms, 5_000);
    const problems = problemsOf(() =>
      loadConfig({ env: { CRATEKEEPER_DATABASE__QUERY_TIMEOUT_MS: '4000', CRATEKEEPER_DATABASE__STATEMENT_TIMEOUT_MS: '4000' } }),
    );
    assert.match(problems.join('\n'), /database\.query_timeout_ms: must be longer than database\.statement_timeout_ms \(4000\)/);
    // Without a server-side timeout, any client-side deadline will do.
    assert.equal(
      loadConfig({ env: { CRATEKEEPER_DATABASE__QUERY_TIMEOUT_MS: '4000', CRATEKEEPER_DATABASE__STATEMENT_TIMEOUT_MS: '0' } }).database
        .query_timeout_ms,
      4000,
    );
  });

  it('checks crate patterns the same way in access rules, upstreams and trusted publishing', () => {
    const file = configFile(
      '[[access.rules]]\ncrates = ["ok-*", "a*b"]\n' +
        '[[upstreams]]\nname = "up"\nindex_url = "sparse+https://up.example/index/"\nallow = ["x y"]\n' +
        '[[trusted_publishing]]\nissuer_url = "https://ci.example"\naudience = "ck"\nuser = "ci"\nclaims = { ref = "main" }\ncrates = ["**"]\n',
    );
    const text = problemsOf(() => loadConfig({ file })).join('\n');
    assert.match(text, /access\.rules\.0\.crates\.1: expected a crate name, or a prefix ending in \*/);
    assert.match(text, /upstreams\.0\.allow\.0: expected a crate name, or a prefix ending in \*/);
    assert.match(text, /trusted_publishing\.0\.crates\.0: expected a crate name, or a prefix ending in \*/);
  });

  it('reads trusted proxies as addresses, ranges and names, and refuses anything else', () => {
    assert.deepEqual(loadConfig({}).server.trusted_proxies, []);
    const list = loadConfig({ env: { CRATEKEEPER_SERVER__TRUSTED_PROXIES: 'loopback, 10.0.0.0/8, fd00::1' } }).server.trusted_proxies;
    assert.deepEqual(list, ['loopback', '10.0.0.0/8', 'fd00::1']);
    const problems = problemsOf(() => loadConfig({ file: configFile('[server]\ntrusted_proxies = ["10.0.0.0/8", "the-proxy"]\n') }));
    assert.match(
      problems.join('\n'),
      /^server\.trusted_proxies: invalid IP address: the-proxy; expected addresses, CIDR ranges, "loopback"/m,
    );
    assert.match(
      problemsOf(() => loadConfig({ env: { CRATEKEEPER_SERVER__TRUSTED_PROXIES: '10.0.0.0/99' } })).join('\n'),
      /server\.trusted_proxies: invalid range on address: 10\.0\.0\.0\/99/,
    );
  });

  it('requires tls_cert and tls_key together', () => {
    const cert = configFile('not really a cert');
    const problems = problemsOf(() => loadConfig({ flags: { 'server.tls_cert': cert } }));
    assert.match(problems.join('\n'), /server\.tls_key: tls_cert and tls_key must be given together/);
  });

  it('refuses __proto__, constructor and prototype by name, and leaves Object.prototype alone', () => {
    const file = configFile('[__proto__]\npolluted = 1\n[server.constructor]\nx = 1\n');
    const problems = problemsOf(() => loadConfig({ file, flags: { '__proto__.from_flag': '1', 'server.prototype': '1' } }));
    const text = problems.join('\n');
    assert.match(text, /^__proto__: `__proto__` is not a setting \(from file .*cratekeeper\.toml\)$/m);
    assert.match(text, /^server\.constructor: `constructor` is not a setting \(from file /m);
    assert.match(text, /^__proto__: `__proto__` is not a setting \(from flag --from-flag\)$/m);
    assert.match(text, /^server\.prototype: `prototype` is not a setting \(from flag --prototype\)$/m);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(({} as Record<string, unknown>).from_flag, undefined);
    assert.ok(!problems.some((p) => p.includes('polluted')), text);
  });

  it('refuses a TOML date or time where a setting belongs', () => {
    const file = configFile('[server]\nport = 1979-05-27\nhost = 07:32:00\n');
    const text = problemsOf(() => loadConfig({ file })).join('\n');
    assert.match(text, /^server\.port: expected an integer from 0 to 65535 \(from file /m);
    assert.match(text, /^server\.host: expected a string \(from file /m);
  });

  it('refuses a table where a value belongs, naming the file', () => {
    const file = configFile('[server]\nport = { a = 1 }\nhost = {}\n');
    const text = problemsOf(() => loadConfig({ file })).join('\n');
    assert.match(text, /^server\.port: expected an integer from 0 to 65535 \(from file .*cratekeeper\.toml\)$/m);
    assert.match(text, /^server\.host: expected a string \(from file .*cratekeeper\.toml\)$/m);
  });

  it('names the variable when a CRATEKEEPER_ variable has an empty part', () => {
    for (const variable of ['CRATEKEEPER___', 'CRATEKEEPER_SERVER__', 'CRATEKEEPER___PORT', 'CRATEKEEPER_SERVER____PORT']) {
      const problems = problemsOf(() => loadConfig({ env: { [variable]: '1' } }));
      assert.deepEqual(
        problems.map((p) => p.split(':')[0]),
        [variable],
        problems.join('\n'),
      );
      assert.match(problems[0]!, /: not a setting name \(expected CRATEKEEPER_<SECTION>__<KEY>/);
    }
  });

  it('refuses a file key that has no dotted path, naming where it is', () => {
    const file = configFile('"server.port" = 1\n[server]\n"" = 1\n"a b" = 2\n');
    const text = problemsOf(() => loadConfig({ file })).join('\n');
    assert.match(text, /^\(top level\): "server\.port" is not a setting name .*\(from file /m);
    assert.match(text, /^server: "" is not a setting name .*\(from file /m);
    assert.match(text, /^server: "a b" is not a setting name .*\(from file /m);
  });

  it('reports unreadable and malformed files', () => {
    assert.match(problemsOf(() => loadConfig({ file: '/no/such/file.toml' }))[0]!, /cannot read the configuration file/);
    assert.match(problemsOf(() => loadConfig({ file: configFile('[server\nport=') }))[0]!, /is not valid TOML/);
  });
});
