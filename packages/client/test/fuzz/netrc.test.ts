// Fuzzes the .netrc lexer, parser and editor: any text parses or fails with NetrcSyntaxError (on a
// line the file has), never another exception; a file written from a model (values bare, quoted
// or backslash-escaped, with comments and macros between entries) parses back to the model; and
// setting a machine's password or removing a machine, then parsing again, changes that machine and
// nothing else (every other entry, the default entry and every macro as they were).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { removeNetrcMachine, setNetrcPassword } from '../../src/netrc-edit.js';
import { NetrcSyntaxError } from '../../src/netrc-lexer.js';
import { findNetrcMachine, parseNetrc, type NetrcDocument } from '../../src/netrc-parse.js';
import { checkProperty } from '@cratekeeper/test-support/fuzz-check';

const file = import.meta.url;
type Field = 'login' | 'password' | 'account';

interface ModelEntry {
  machine: string | undefined;
  fields: Array<[Field, string]>;
}
type Item = { kind: 'entry'; entry: ModelEntry } | { kind: 'comment'; text: string } | { kind: 'macdef'; name: string; lines: string[] };

const KEYWORDS = ['machine', 'default', 'login', 'password', 'account', 'macdef'];
const value = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    'two words',
    'tab\there',
    'quote"in',
    'back\\slash',
    '#hash',
    'line\nbreak',
    'cr\r',
    ...KEYWORDS,
    'ünïcødé',
    '"',
    '\\',
  ),
  fc.string({ unit: 'binary-ascii', maxLength: 12 }),
  fc.stringMatching(/^[a-z0-9.-]{1,12}$/),
);
const machineName = fc.oneof(fc.constantFrom('git.example.com', 'GIT.example.com', 'registry.test', 'a', 'A'), value);
const entryArb: fc.Arbitrary<ModelEntry> = fc.record({
  machine: fc.oneof({ weight: 6, arbitrary: machineName }, { weight: 1, arbitrary: fc.constant(undefined) }),
  fields: fc.array(fc.tuple(fc.constantFrom<Field>('login', 'password', 'account'), value), { maxLength: 4 }),
});
const macroLine = fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 20 }).filter((l) => !l.includes('\n') && l.trim() !== '');
const itemArb: fc.Arbitrary<Item> = fc.oneof(
  { weight: 6, arbitrary: entryArb.map((entry) => ({ kind: 'entry' as const, entry })) },
  // A comment is one line; it may hold backslashes and quotes, at its end too (`#C:\`).
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.string({ unit: 'binary-ascii', maxLength: 20 }), fc.constantFrom('', '\\', '"', ' \\'))
      .map(([body, end]) => body.replace(/[\n\r]/g, '') + end)
      .map((text) => ({ kind: 'comment' as const, text })),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('macdef' as const),
      name: fc.stringMatching(/^[a-z]{1,8}$/),
      lines: fc.array(macroLine, { maxLength: 3 }),
    }),
  },
);
/** How a value is written: bare with escapes (`\ `), or double-quoted with `\"` and `\\`. */
const styleArb = fc.constantFrom<'quoted' | 'escaped'>('quoted', 'escaped');
const spaceArb = fc.constantFrom(' ', '\t', '\n', '  ', ' \n\t', '\r\n');

function writeValue(value: string, style: 'quoted' | 'escaped'): string {
  if (style === 'quoted' || value === '') return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  // Bare: escape every character a reader would otherwise split on or read as a quote or comment.
  return value.replace(/[\s"\\#]/g, (c) => `\\${c}`);
}

/**
 * A .netrc text for the items; each token is written in its own style and followed by its own
 * spacing. With `openEnd`, a macro that ends the file has no blank line after it (its body runs to
 * the end of the file, which is where an editor must take care).
 */
function writeNetrc(items: Item[], styles: Array<'quoted' | 'escaped'>, spaces: string[], openEnd = false): string {
  let n = 0;
  const style = () => styles[n++ % styles.length]!;
  const space = () => spaces[n++ % spaces.length]!;
  let text = '';
  for (const item of items) {
    if (item.kind === 'comment') text += `#${item.text}\n`;
    else if (item.kind === 'macdef') text += `macdef ${item.name}\n${item.lines.map((l) => `${l}\n`).join('')}\n`;
    else {
      const { entry } = item;
      text += entry.machine === undefined ? 'default' : `machine${space()}${writeValue(entry.machine, style())}`;
      for (const [field, v] of entry.fields) text += `${space()}${field}${space()}${writeValue(v, style())}`;
      text += '\n';
    }
  }
  if (openEnd && items.at(-1)?.kind === 'macdef') text = text.replace(/\n$/, '');
  return text;
}

/** What a reader must make of the entries: the first value of each field wins. */
function expectedEntries(items: Item[]) {
  return items
    .filter((i): i is Extract<Item, { kind: 'entry' }> => i.kind === 'entry')
    .map(({ entry }) => {
      const first = (f: Field) => entry.fields.find(([field]) => field === f)?.[1];
      return { machine: entry.machine, login: first('login'), password: first('password'), account: first('account') };
    });
}

const summary = (doc: NetrcDocument) =>
  doc.entries.map((e) => ({ machine: e.machine, login: e.login, password: e.password, account: e.account }));
const macros = (items: Item[]) => items.filter((i) => i.kind === 'macdef').map((m) => ({ name: m.name, lines: m.lines }));

const documentArb = fc.record({
  items: fc.array(itemArb, { maxLength: 6 }),
  styles: fc.array(styleArb, { minLength: 1, maxLength: 5 }),
  spaces: fc.array(spaceArb, { minLength: 1, maxLength: 5 }),
  openEnd: fc.boolean(),
});

type NetrcCase = typeof documentArb extends fc.Arbitrary<infer T> ? T : never;

// The counterexamples of bugs found so far, checked on every run (see fuzz/README.md).
const commentEndingInBackslash: NetrcCase = {
  items: [
    { kind: 'comment', text: 'C:\\' },
    {
      kind: 'entry',
      entry: {
        machine: 'git.example.com',
        fields: [
          ['login', 'me'],
          ['password', 'p'],
        ],
      },
    },
  ],
  styles: ['escaped'],
  spaces: [' '],
  openEnd: false,
};
const passwordWithoutLogin: NetrcCase = {
  items: [{ kind: 'entry', entry: { machine: 'a', fields: [['password', 'old']] } }],
  styles: ['escaped'],
  spaces: [' '],
  openEnd: false,
};

describe('fuzz: .netrc', () => {
  it('any text parses or fails with NetrcSyntaxError on one of its lines', async () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 120 }),
      fc
        .array(fc.oneof(fc.constantFrom(...KEYWORDS, '"', '\\', '#', '\n', ' ', '""', '"a b"', 'x\\'), fc.string({ maxLength: 5 })), {
          maxLength: 20,
        })
        .map((parts) => parts.join(' ')),
      documentArb.chain(({ items, styles, spaces, openEnd }) =>
        fc
          .tuple(fc.constant(writeNetrc(items, styles, spaces, openEnd)), fc.nat(), fc.nat({ max: 3 }))
          .map(([t, at, cut]) => t.slice(0, at % (t.length + 1)) + t.slice((at % (t.length + 1)) + cut)),
      ),
    );
    await checkProperty(
      fc.property(text, (input) => {
        try {
          parseNetrc(input, 'fuzz.netrc');
        } catch (error) {
          assert.ok(error instanceof NetrcSyntaxError, `threw ${String(error)}`);
          assert.ok(
            error.line >= 1 && error.line <= input.split('\n').length,
            `line ${error.line} of a ${input.split('\n').length}-line file`,
          );
          assert.match(error.message, /^fuzz\.netrc:\d+: \S/);
        }
      }),
      { runs: 4000, file, name: 'any text parses or fails' },
    );
  });

  it('a file written from a model parses back to the model', async () => {
    await checkProperty(
      fc.property(documentArb, ({ items, styles, spaces, openEnd }) => {
        const text = writeNetrc(items, styles, spaces, openEnd);
        const doc = parseNetrc(text);
        assert.deepEqual(summary(doc), expectedEntries(items), JSON.stringify(text));
        assert.deepEqual(doc.macros, macros(items), JSON.stringify(text));
      }),
      { runs: 3000, file, name: 'a file written from a model parses back', examples: [[commentEndingInBackslash]] },
    );
  });

  it('setting a password changes that machine only, and parses back', async () => {
    await checkProperty(
      fc.property(documentArb, machineName, value, value, ({ items, styles, spaces, openEnd }, machine, login, password) => {
        const before = parseNetrc(writeNetrc(items, styles, spaces, openEnd));
        const target = findNetrcMachine(before, machine);
        const text = setNetrcPassword(before, machine, login, password);
        const after = parseNetrc(text);
        const changed = findNetrcMachine(after, machine);
        assert.ok(changed, `no entry for ${JSON.stringify(machine)} in ${JSON.stringify(text)}`);
        assert.equal(changed.password, password, JSON.stringify(text));
        assert.equal(changed.login, target?.login ?? login, JSON.stringify(text));
        assert.equal(changed.account, target?.account, JSON.stringify(text));
        const others = (doc: NetrcDocument, skip: unknown) => summary({ ...doc, entries: doc.entries.filter((e) => e !== skip) });
        assert.deepEqual(others(after, changed), others(before, target), `other entries changed: ${JSON.stringify(text)}`);
        assert.deepEqual(after.macros, before.macros);
      }),
      {
        runs: 3000,
        file,
        name: 'setting a password',
        examples: [
          [commentEndingInBackslash, 'git.example.com', 'me', 'new'],
          [passwordWithoutLogin, 'a', 'me', 'new'],
        ],
      },
    );
  });

  it('removing a machine removes every entry for it and nothing else', async () => {
    await checkProperty(
      fc.property(documentArb, machineName, ({ items, styles, spaces, openEnd }, machine) => {
        const before = parseNetrc(writeNetrc(items, styles, spaces, openEnd));
        const { text, removed } = removeNetrcMachine(before, machine);
        const after = parseNetrc(text);
        const same = (e: { machine: string | undefined }) => e.machine !== undefined && e.machine.toLowerCase() === machine.toLowerCase();
        assert.equal(removed, before.entries.some(same));
        assert.equal(findNetrcMachine(after, machine), undefined, JSON.stringify(text));
        assert.deepEqual(
          summary(after),
          summary({ ...before, entries: before.entries.filter((e) => !same(e)) }),
          `other entries changed: ${JSON.stringify(text)}`,
        );
        assert.deepEqual(after.macros, before.macros);
      }),
      { runs: 3000, file, name: 'removing a machine' },
    );
  });
});
