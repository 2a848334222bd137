// The .netrc reader against a table of files as people write them, and the line numbers of the
// errors it reports.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NetrcSyntaxError } from '../src/netrc-lexer.js';
import { findNetrcMachine, netrcDefault, parseNetrc } from '../src/netrc-parse.js';

interface Row {
  name: string;
  text: string;
  machines: Record<string, { login?: string; password?: string; account?: string }>;
  default?: { login?: string; password?: string };
  macros?: Record<string, string[]>;
}

const table: Row[] = [
  {
    name: 'one line per entry',
    text: 'machine a.example.com login alice password pw1\nmachine b.example.com login bob password pw2\n',
    machines: { 'a.example.com': { login: 'alice', password: 'pw1' }, 'b.example.com': { login: 'bob', password: 'pw2' } },
  },
  {
    name: 'one token per line, tabs and CRLF',
    text: 'machine\ta.example.com\r\n\tlogin\talice\r\n\tpassword\tpw\r\n\taccount\tacct\r\n',
    machines: { 'a.example.com': { login: 'alice', password: 'pw', account: 'acct' } },
  },
  {
    name: 'default last, used only as the fallback entry',
    text: 'machine a login x password y\ndefault login anonymous password guest@\n',
    machines: { a: { login: 'x', password: 'y' } },
    default: { login: 'anonymous', password: 'guest@' },
  },
  {
    name: 'comments on their own line and after an entry',
    text: '# personal\n  # indented comment\nmachine a login x password y # trailing comment with machine b words\n# machine c login no password no\n',
    machines: { a: { login: 'x', password: 'y' } },
  },
  {
    name: 'a comment whose first word ends in a backslash ends at its line, as with curl',
    text: '#C:\\\nmachine git.example.com login me password p #D:\\\nmachine b login z password w\n',
    machines: { 'git.example.com': { login: 'me', password: 'p' }, b: { login: 'z', password: 'w' } },
  },
  {
    name: 'a # inside a value is part of the value',
    text: 'machine a login x password ab#cd\nmachine b login y password #starts\n',
    machines: { a: { login: 'x', password: 'ab#cd' }, b: { login: 'y', password: '#starts' } },
  },
  {
    name: 'quoted values with spaces and escapes',
    text: 'machine a login "john doe" password "p a\\"s\\\\s"\n',
    machines: { a: { login: 'john doe', password: 'p a"s\\s' } },
  },
  {
    name: 'backslash escapes outside quotes',
    text: 'machine a login x password with\\ space\n',
    machines: { a: { login: 'x', password: 'with space' } },
  },
  {
    name: 'macdef bodies are skipped up to the blank line, entries continue after',
    text: 'machine a login x password y\nmacdef init\ncd /pub\nmachine fake login no password no\nbin\n\nmachine b login z password w\n',
    machines: { a: { login: 'x', password: 'y' }, b: { login: 'z', password: 'w' } },
    macros: { init: ['cd /pub', 'machine fake login no password no', 'bin'] },
  },
  {
    name: 'macdef body running to the end of the file',
    text: 'machine a login x password y\nmacdef upload\nput file',
    machines: { a: { login: 'x', password: 'y' } },
    macros: { upload: ['put file'] },
  },
  {
    name: 'entries without login or password',
    text: 'machine a password only-password\nmachine b login only-login\nmachine c\n',
    machines: { a: { password: 'only-password' }, b: { login: 'only-login' }, c: {} },
  },
  {
    name: 'the first entry of a machine wins, names are case-insensitive',
    text: 'machine Registry.Example.com login first password 1\nmachine registry.example.com login second password 2\n',
    machines: { 'registry.example.com': { login: 'first', password: '1' } },
  },
  {
    name: 'empty file and blank file',
    text: '\n \t\n',
    machines: {},
  },
];

for (const row of table) {
  void test(`netrc: ${row.name}`, () => {
    const doc = parseNetrc(row.text, 'test.netrc');
    for (const [machine, expected] of Object.entries(row.machines)) {
      const entry = findNetrcMachine(doc, machine);
      assert.ok(entry, `machine ${machine} found`);
      assert.deepEqual(
        { login: entry.login, password: entry.password, account: entry.account },
        { login: undefined, password: undefined, account: undefined, ...expected },
      );
    }
    const names = doc.entries.filter((e) => e.machine !== undefined).map((e) => e.machine!.toLowerCase());
    assert.deepEqual(
      [...new Set(names)].sort(),
      Object.keys(row.machines)
        .map((m) => m.toLowerCase())
        .sort(),
    );
    const fallback = netrcDefault(doc);
    if (row.default) assert.deepEqual({ login: fallback?.login, password: fallback?.password }, row.default);
    else assert.equal(fallback, undefined);
    if (row.macros) assert.deepEqual(Object.fromEntries(doc.macros.map((m) => [m.name, m.lines])), row.macros);
  });
}

const errors: Array<{ name: string; text: string; line: number; message: RegExp }> = [
  { name: 'unknown keyword inside an entry', text: 'machine a\n  login x\n  passwrd y\n', line: 3, message: /unknown keyword `passwrd`/ },
  {
    name: 'login before any machine',
    text: '# hi\nlogin x password y\n',
    line: 2,
    message: /`login` outside of a `machine` or `default` entry/,
  },
  {
    name: 'machine without a name at the end',
    text: 'machine a login b\nmachine',
    line: 2,
    message: /`machine` must be followed by a host name/,
  },
  {
    name: 'password without a value',
    text: 'machine a\nlogin b\npassword',
    line: 3,
    message: /`password` must be followed by a password value/,
  },
  { name: 'unterminated quote', text: 'machine a\nlogin "unfinished\n\nmachine b\n', line: 2, message: /unterminated quoted value/ },
  {
    name: 'stray word at top level',
    text: 'machine a login b password c\n\nmacdef m\nbody\n\nhello\n',
    line: 6,
    message: /unexpected `hello`/,
  },
];

for (const row of errors) {
  void test(`netrc error: ${row.name}`, () => {
    assert.throws(
      () => parseNetrc(row.text, '/home/u/.netrc'),
      (error: unknown) => {
        assert.ok(error instanceof NetrcSyntaxError);
        assert.equal(error.line, row.line);
        assert.match(error.message, row.message);
        assert.ok(error.message.startsWith(`/home/u/.netrc:${row.line}: `), error.message);
        return true;
      },
    );
  });
}
