// Fuzzes the configuration loaders: the server's (src/config/load.ts: TOML file, CRATEKEEPER_*
// environment variables, flags) and the client's auth file (packages/client/src/auth-config.ts). Any input gives
// a configuration or the loader's own error, never another exception; every problem starts with
// the dotted path of the setting it is about (or, for a file that is not TOML, the file; for an
// environment variable that names no setting, the variable); a setting given a value of the wrong
// type is reported under its path, with where the value came from; and loading leaves
// Object.prototype alone.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify as stringifyToml, TomlDate } from 'smol-toml';
import { AuthConfigError, parseAuthConfig } from '@cratekeeper/client/network';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { checkProperty } from '@cratekeeper/test-support/fuzz-check';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

const file = import.meta.url;

const KNOWN: Record<string, string[]> = {
  server: ['host', 'port', 'public_url', 'tls_cert', 'tls_key', 'shutdown_grace_seconds', 'workers'],
  database: ['url'],
  storage: ['data_dir', 'kind', 's3'],
  auth: ['required'],
  publish: [
    'max_size',
    'max_unpacked_size',
    'max_files',
    'max_manifest_size',
    'max_metadata_size',
    'max_in_flight',
    'max_in_flight_per_user',
    'queue_seconds',
    'upload_timeout_seconds',
    'allowed_registries',
  ],
  access: ['rules'],
  audit: ['retention_days', 'flush_interval_ms'],
  rate_limits: ['publish_per_minute', 'failed_auth_per_minute'],
  cpu: ['threads', 'max_queue', 'max_heap_mb'],
  cache: ['index_bytes', 'poll_interval_ms'],
  metrics: ['token'],
  log: ['level'],
  upstreams: [],
  oidc: ['issuer', 'client_id', 'client_secret'],
  login: [],
  trusted_publishing: [],
};
const SECTIONS = Object.keys(KNOWN);
// Keys are mostly words, sometimes keys that must be refused by name: the ones that reach
// Object.prototype, an empty key (an environment variable with an empty part) and a dotted one.
const ODD_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', '', 'a.b'];
const word = fc.oneof(
  { weight: 8, arbitrary: fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/) },
  { weight: 1, arbitrary: fc.constantFrom(...ODD_KEYS) },
);

// TOML values, dates and times included (offset, local date-time, local date, local time).
const scalar = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('auto', '10MiB', '1 GiB', '-1', '0', '65536', 'true', 'https://x.example/', 'postgres://h/db', 's3', 'debug', ''),
  fc.integer(),
  fc.constantFrom(0, -1, 65535, 65536, 2 ** 31, Number.MAX_SAFE_INTEGER),
  fc.double({ noNaN: false }),
  fc.boolean(),
  fc.date({ noInvalidDate: true }),
  fc.constantFrom(new TomlDate('1979-05-27T07:32:00'), new TomlDate('1979-05-27'), new TomlDate('07:32:00')),
);
const tomlValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(word, tie('value'), { maxKeys: 3 }),
  ),
})).value;

const knownKeys = (name: string) => (Object.hasOwn(KNOWN, name) && KNOWN[name]!.length > 0 ? KNOWN[name]! : ['x']);
const section = (name: string) => fc.dictionary(fc.oneof(fc.constantFrom(...knownKeys(name)), word), tomlValue, { maxKeys: 4 });
const configTree = fc
  .uniqueArray(fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...SECTIONS) }, { weight: 1, arbitrary: fc.constantFrom(...ODD_KEYS) }), {
    maxLength: 4,
  })
  .chain((names) => fc.tuple(...names.map((n) => section(n).map((t) => [n, t] as const))))
  .map((pairs) => Object.fromEntries(pairs));

const envVars = fc.dictionary(
  fc
    .tuple(fc.constantFrom(...SECTIONS), fc.oneof(word, fc.constantFrom('port', 'max_size', 'threads', 'level', 'rules')))
    .map(([s, k]) => `CRATEKEEPER_${s.toUpperCase()}__${k.toUpperCase()}`),
  fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('1', '-1', 'auto', 'x', '10MiB', '', '[]')),
  { maxKeys: 3 },
);
const flags = fc.dictionary(
  fc.tuple(fc.constantFrom(...SECTIONS), word).map(([s, k]) => `${s}.${k}`),
  fc.string({ maxLength: 10 }),
  { maxKeys: 2 },
);

// The counterexamples of bugs found so far, checked on every run (see fuzz/README.md).
const FOUND_ANY: Array<[string, Record<string, string>, Record<string, string>]> = [
  ['[__proto__]\npolluted = 1\n', {}, {}], // wrote into Object.prototype
  ['', {}, { '__proto__.x': '1' }], // the same from a flag
  ['', { CRATEKEEPER___: '1' }, {}], // a problem with an empty path
];
const FOUND_WRONG: Array<[string, unknown, 'file' | 'env' | 'flag']> = [
  ['server.port', new TomlDate('1979-05-27'), 'file'], // ignored: port 8000, no problem
  ['server.port', { a: 1 }, 'file'], // reported without its source
];

/** A problem names its setting: `a.b.c: ...` (every part non-empty), or the file when it is not TOML, or the variable. */
const PROBLEM = /^(\(top level\)|[^\s.:]+(\.[^\s.:]+)*): \S/;

function prototypeKeys(): string[] {
  return Object.getOwnPropertyNames(Object.prototype).sort();
}

/** Fails when Object.prototype gained keys, after taking them away so that later inputs are judged on their own. */
function assertPrototypeUntouched(clean: string[], what: string): void {
  const added = prototypeKeys().filter((key) => !clean.includes(key));
  for (const key of added) delete (Object.prototype as Record<string, unknown>)[key];
  assert.deepEqual(added, [], `${what} added ${added.join(', ')} to Object.prototype`);
}

describe('fuzz: configuration files', () => {
  const dir = makeTempDir('cratekeeper-fuzz-config-');
  const path = join(dir, 'cratekeeper.toml');
  const cleanPrototype = prototypeKeys();

  function load(sources: { text: string; env: Record<string, string>; flags: Record<string, string> }): ConfigError | undefined {
    writeFileSync(path, sources.text);
    try {
      loadConfig({ file: path, env: sources.env, flags: { 'storage.data_dir': dir, ...sources.flags } });
      return undefined;
    } catch (error) {
      assert.ok(error instanceof ConfigError, `loadConfig threw ${String((error as Error)?.stack ?? error)}`);
      assert.ok(error.problems.length > 0);
      for (const problem of error.problems) {
        if (problem.startsWith(path)) continue;
        assert.match(problem, PROBLEM);
      }
      return error;
    } finally {
      assertPrototypeUntouched(cleanPrototype, 'loading the configuration');
    }
  }

  it('server: any file, environment and flags give a configuration or a ConfigError naming each setting', async () => {
    const text = fc.oneof(
      { weight: 4, arbitrary: configTree.map((tree) => stringifyToml(tree)) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(
            configTree.map((tree) => stringifyToml(tree)),
            fc.nat(),
            fc.constantFrom('[', ']', '=', '"', '\n[server]\n', 'x = ', '[[access.rules]]\n', '\u0000'),
          )
          .map(([t, at, junk]) => t.slice(0, at % (t.length + 1)) + junk + t.slice(at % (t.length + 1))),
      },
    );
    await checkProperty(
      fc.property(text, envVars, flags, (t, env, f) => {
        load({ text: t, env, flags: f });
      }),
      { runs: 1500, file, name: 'server: any file', examples: FOUND_ANY },
    );
  });

  it('server: a setting given a value of the wrong type is reported under its path', async () => {
    const numeric = [
      'server.port',
      'server.workers',
      'publish.max_size',
      'publish.max_files',
      'rate_limits.publish_per_minute',
      'cpu.threads',
      'cache.index_bytes',
      'audit.retention_days',
    ];
    const wrong = fc.oneof(
      fc.constantFrom<unknown>(
        'abc',
        -5,
        1.5,
        true,
        [1],
        { a: 1 },
        {},
        '',
        ' 1 2 ',
        new Date(0),
        new TomlDate('1979-05-27'),
        new TomlDate('07:32:00'),
      ),
      fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !/^\s*[\d.]/.test(s) && s.trim() !== 'auto'),
    );
    await checkProperty(
      fc.property(fc.constantFrom(...numeric), wrong, fc.constantFrom('file', 'env', 'flag'), (setting, value, where) => {
        const [sectionName, key] = setting.split('.') as [string, string];
        const env: Record<string, string> = {};
        const flagValues: Record<string, string> = {};
        let text = '';
        if (where === 'file') text = stringifyToml({ [sectionName]: { [key]: value } });
        else if (typeof value !== 'string')
          return; // the environment and flags carry text only
        else if (where === 'env') env[`CRATEKEEPER_${sectionName.toUpperCase()}__${key.toUpperCase()}`] = value;
        else flagValues[setting] = value;
        const error = load({ text, env, flags: flagValues });
        assert.ok(error, `${setting} = ${JSON.stringify(value)} (${where}) was accepted`);
        const from = { file: `(from file ${path})`, env: '(from environment variable ', flag: '(from flag --' }[where];
        assert.ok(
          error.problems.some((p) => p.startsWith(`${setting}: `) && p.includes(from)),
          `no problem names ${setting} and where its value came from: ${error.problems.join('; ')}`,
        );
      }),
      { runs: 1000, file, name: 'server: a setting given a value of the wrong type', examples: FOUND_WRONG },
    );
  });

  it('client auth file: any TOML gives a configuration or an AuthConfigError', async () => {
    const rule = fc.dictionary(fc.constantFrom('auth', 'header', 'headers', 'path_prefix', 'x'), tomlValue, { maxKeys: 3 });
    const host = fc.dictionary(
      fc.constantFrom(
        'auth',
        'header',
        'headers',
        'netrc_machine',
        'use_netrc_default',
        'token_command',
        'rewrite_auth_required',
        'operations',
        'nope',
      ),
      fc.oneof(
        tomlValue,
        fc.dictionary(fc.constantFrom('index', 'download', 'api', 'other'), rule, { maxKeys: 2 }),
        fc.constantFrom('basic', 'bearer', 'token <password>', '<nope>'),
      ),
      { maxKeys: 4 },
    );
    const hostKey = fc.oneof(
      fc.constantFrom('registry.example.com', '*.example.com', 'localhost:8443', 'http://x', '', '*', 'a..b', '[::1]:1'),
      fc.string({ maxLength: 12 }),
    );
    const doc = fc.record(
      {
        hosts: fc.oneof(fc.dictionary(hostKey, host, { maxKeys: 2 }), tomlValue),
        netrc_default: fc.oneof(fc.boolean(), tomlValue),
        allow_insecure_netrc: tomlValue,
      },
      { requiredKeys: [] },
    );
    const text = fc.oneof(
      { weight: 4, arbitrary: doc.map((d) => stringifyToml(d)) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
    );
    await checkProperty(
      fc.property(text, (t) => {
        try {
          parseAuthConfig(t, 'fuzz-auth.toml');
        } catch (error) {
          assert.ok(error instanceof AuthConfigError, `parseAuthConfig threw ${String((error as Error)?.stack ?? error)}`);
          assert.ok(error.problems.length > 0 && error.problems.every((p) => p.length > 0));
        }
        assertPrototypeUntouched(cleanPrototype, 'loading the auth file');
      }),
      { runs: 1500, file, name: 'client auth file' },
    );
  });
});
