// login/logout edits of a .netrc: the changed entry only, everything else byte for byte; and the file
// rules (0600 on creation, refusal of readable files, the $NETRC / --netrc / ~/.netrc order).

import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatNetrcValue, removeNetrcMachine, setNetrcPassword } from '../src/netrc-edit.js';
import { NetrcPermissionError, netrcPath, readNetrcFile, writeNetrcFile } from '../src/netrc-file.js';
import { findNetrcMachine, netrcDefault, parseNetrc } from '../src/netrc-parse.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

const ORIGINAL = [
  '# work machines',
  'machine git.example.com',
  '\tlogin me',
  '\tpassword "two words"   # keep this comment',
  '',
  'macdef init',
  'cd /pub',
  '',
  'machine other.example.com login o password p',
  '',
  '# the fallback',
  'default login anonymous password guest',
  '',
].join('\n');

void test('login adds an entry before default, logout removes exactly it', () => {
  const doc = parseNetrc(ORIGINAL);
  const added = setNetrcPassword(doc, 'registry.example.com', 'cargo', 'ckt_secret');
  assert.equal(added, ORIGINAL.replace('default login', 'machine registry.example.com login cargo password ckt_secret\ndefault login'));
  const parsed = parseNetrc(added);
  assert.equal(findNetrcMachine(parsed, 'registry.example.com')?.password, 'ckt_secret');
  assert.equal(netrcDefault(parsed)?.login, 'anonymous');
  assert.equal(parsed.entries.at(-1)?.machine, undefined, 'default stays last');

  const { text, removed } = removeNetrcMachine(parsed, 'registry.example.com');
  assert.equal(removed, true);
  assert.equal(text, ORIGINAL);
});

void test('login replaces the password of an existing entry in place', () => {
  const doc = parseNetrc(ORIGINAL);
  const changed = setNetrcPassword(doc, 'GIT.example.com', 'ignored', 'new pass');
  assert.equal(changed, ORIGINAL.replace('"two words"', '"new pass"'));
});

void test('login adds a password to an entry that has none', () => {
  const doc = parseNetrc('machine a login x\nmachine b login y password z\n');
  assert.equal(setNetrcPassword(doc, 'a', 'cargo', 'tok'), 'machine a login x password tok\nmachine b login y password z\n');
  const bare = parseNetrc('machine a\n');
  assert.equal(setNetrcPassword(bare, 'a', 'cargo', 'tok'), 'machine a login cargo password tok\n');
});

void test('login adds the missing login to an entry that has a password, after the machine name', () => {
  const doc = parseNetrc('machine a password old\n');
  assert.equal(setNetrcPassword(doc, 'a', 'me', 'new'), 'machine a login me password new\n');
  const spread = parseNetrc('machine a\n\tpassword old # note\nmachine b login y password z\n');
  const text = setNetrcPassword(spread, 'A', 'two words', 'new');
  assert.equal(text, 'machine a login "two words"\n\tpassword new # note\nmachine b login y password z\n');
  assert.equal(findNetrcMachine(parseNetrc(text), 'a')?.login, 'two words');
});

void test('login appends at the end, and ends an unterminated macro first', () => {
  assert.equal(setNetrcPassword(parseNetrc(''), 'h', 'cargo', 't'), 'machine h login cargo password t\n');
  assert.equal(
    setNetrcPassword(parseNetrc('machine a login b password c'), 'h', 'cargo', 't'),
    'machine a login b password c\nmachine h login cargo password t\n',
  );
  const macro = parseNetrc('machine a login b password c\nmacdef m\nbody line');
  const text = setNetrcPassword(macro, 'h', 'cargo', 't');
  const parsed = parseNetrc(text);
  assert.equal(findNetrcMachine(parsed, 'h')?.password, 't');
  assert.deepEqual(parsed.macros[0]?.lines, ['body line']);
});

void test('logout of an entry sharing its line keeps the neighbours', () => {
  const doc = parseNetrc('machine a login x password y machine b login z password w machine c login u password v\n');
  assert.equal(removeNetrcMachine(doc, 'b').text, 'machine a login x password y machine c login u password v\n');
  assert.equal(removeNetrcMachine(doc, 'c').text, 'machine a login x password y machine b login z password w\n');
  assert.equal(removeNetrcMachine(doc, 'a').text, 'machine b login z password w machine c login u password v\n');
  assert.deepEqual(removeNetrcMachine(doc, 'nothere'), { text: doc.text, removed: false });
});

void test('values that readers would split are quoted', () => {
  assert.equal(formatNetrcValue('plain-token_1.2'), 'plain-token_1.2');
  assert.equal(formatNetrcValue('a b'), '"a b"');
  assert.equal(formatNetrcValue('q"uo\\te'), '"q\\"uo\\\\te"');
  assert.equal(formatNetrcValue('#hash'), '"#hash"');
  for (const value of ['a b', 'q"uo\\te', '#hash', '\ttab']) {
    assert.equal(findNetrcMachine(parseNetrc(`machine m password ${formatNetrcValue(value)}\n`), 'm')?.password, value);
  }
});

void test('a new file is written with mode 0600, an existing one keeps its mode', () => {
  const dir = makeTempDir();
  const path = join(dir, 'netrc');
  writeNetrcFile(path, 'machine a password b\n');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  chmodSync(path, 0o400);
  writeNetrcFile(path, 'machine a password c\n');
  assert.equal(statSync(path).mode & 0o777, 0o400);
  assert.equal(readFileSync(path, 'utf8'), 'machine a password c\n');
});

void test('a file that group or others can read is refused, with the fix, unless allowed', () => {
  const dir = makeTempDir();
  const path = join(dir, '.netrc');
  writeFileSync(path, 'machine a password b\n', { mode: 0o644 });
  chmodSync(path, 0o644);
  assert.throws(
    () => readNetrcFile(path),
    (error: unknown) => {
      assert.ok(error instanceof NetrcPermissionError);
      assert.match(error.message, /can be read by group or others \(mode 0644\)/);
      assert.ok(error.message.includes(`chmod 600 ${path}`), error.message);
      return true;
    },
  );
  assert.equal(readNetrcFile(path, { allowInsecure: true })?.entries.length, 1);
  chmodSync(path, 0o600);
  assert.equal(readNetrcFile(path)?.entries.length, 1);
  assert.equal(readNetrcFile(join(dir, 'missing')), undefined);
});

void test('the file comes from --netrc, then $NETRC, then ~/.netrc', () => {
  assert.equal(netrcPath({ explicit: '/x/flag', env: { NETRC: '/x/env', HOME: '/home/u' } }), '/x/flag');
  assert.equal(netrcPath({ env: { NETRC: '/x/env', HOME: '/home/u' } }), '/x/env');
  assert.equal(netrcPath({ env: { HOME: '/home/u' } }), '/home/u/.netrc');
});
