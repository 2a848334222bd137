// Parses a .netrc file into its entries (machine and default), each with the offsets of its tokens
// so that netrc-edit.ts can rewrite one entry and leave comments, macros and other entries as they
// were. A syntax error names the file and line.

import { NetrcLexer, NetrcSyntaxError, type NetrcToken } from './netrc-lexer.js';

export interface NetrcEntry {
  /** The machine name, or undefined for the `default` entry. */
  machine: string | undefined;
  login: string | undefined;
  password: string | undefined;
  account: string | undefined;
  /** The `machine` or `default` keyword token. */
  keyword: NetrcToken;
  /** The machine name token (absent for `default`). */
  nameToken: NetrcToken | undefined;
  /** Value tokens by field, for editing. */
  fields: Partial<Record<'login' | 'password' | 'account', { keyword: NetrcToken; value: NetrcToken }>>;
  /** Offset just past the entry's last token. */
  end: number;
}

export interface NetrcMacro {
  name: string;
  lines: string[];
}

export interface NetrcDocument {
  file: string;
  text: string;
  /** Entries in file order, `default` included. */
  entries: NetrcEntry[];
  macros: NetrcMacro[];
  /** True when the last macro's body runs to the end of the file (text appended must start after a blank line). */
  endsInMacro: boolean;
}

const FIELD_KEYWORDS: Record<string, 'login' | 'password' | 'account'> = {
  login: 'login',
  password: 'password',
  account: 'account',
};

/** Parses .netrc text; throws NetrcSyntaxError with the line of the problem. */
export function parseNetrc(text: string, file = '.netrc'): NetrcDocument {
  const lexer = new NetrcLexer(text, file);
  const entries: NetrcEntry[] = [];
  const macros: NetrcMacro[] = [];
  let current: NetrcEntry | undefined;
  let endsInMacro = false;

  const expectValue = (after: NetrcToken, what: string): NetrcToken => {
    const token = lexer.next();
    if (token === undefined) throw new NetrcSyntaxError(file, after.line, `\`${after.value}\` must be followed by ${what}`);
    return token;
  };

  for (;;) {
    // A comment is recognized where a keyword may start, before the lexer reads it as a token.
    if (lexer.skipComment()) continue;
    const token = lexer.next();
    if (token === undefined) break;
    const word = token.value;
    if (word === 'machine') {
      const name = expectValue(token, 'a host name');
      current = newEntry(name.value, token, name);
      entries.push(current);
    } else if (word === 'default') {
      current = newEntry(undefined, token, undefined);
      entries.push(current);
    } else if (word === 'macdef') {
      const name = expectValue(token, 'a macro name');
      const body = lexer.readMacroBody();
      macros.push({ name: name.value, lines: body.lines });
      endsInMacro = !body.terminated;
      // A macro ends the entry it appears in: what follows the blank line is top level again.
      current = undefined;
    } else if (word in FIELD_KEYWORDS) {
      if (current === undefined) {
        throw new NetrcSyntaxError(file, token.line, `\`${word}\` outside of a \`machine\` or \`default\` entry`);
      }
      const field = FIELD_KEYWORDS[word]!;
      const value = expectValue(token, `a ${field} value`);
      if (current.fields[field] === undefined) {
        current.fields[field] = { keyword: token, value };
        current[field] = value.value;
      }
      current.end = value.end;
    } else {
      throw new NetrcSyntaxError(
        file,
        token.line,
        current === undefined
          ? `unexpected \`${word}\` (expected \`machine\`, \`default\` or \`macdef\`)`
          : `unknown keyword \`${word}\` (expected login, password, account, macdef, machine or default)`,
      );
    }
  }
  return { file, text, entries, macros, endsInMacro };
}

function newEntry(machine: string | undefined, keyword: NetrcToken, nameToken: NetrcToken | undefined): NetrcEntry {
  return {
    machine,
    login: undefined,
    password: undefined,
    account: undefined,
    keyword,
    nameToken,
    fields: {},
    end: (nameToken ?? keyword).end,
  };
}

/**
 * The entry for a machine name (case-insensitive; the first one wins, as with curl and ftp), or
 * undefined. Never falls back to `default`: see netrcDefault.
 */
export function findNetrcMachine(doc: NetrcDocument, machine: string): NetrcEntry | undefined {
  const wanted = machine.toLowerCase();
  return doc.entries.find((e) => e.machine !== undefined && e.machine.toLowerCase() === wanted);
}

/** The `default` entry, if the file has one. */
export function netrcDefault(doc: NetrcDocument): NetrcEntry | undefined {
  return doc.entries.find((e) => e.machine === undefined);
}
