// Changes one machine's credentials in .netrc text and leaves everything else (comments, macros,
// other entries, the `default` entry, spacing) byte for byte as it was. Used by the credential
// provider's login and logout.

import { parseNetrc, type NetrcDocument } from './netrc-parse.js';

/** Writes a value as a netrc token, quoting and escaping it when a reader would otherwise split it. */
export function formatNetrcValue(value: string): string {
  if (value === '') return '""';
  if (/^[^\s"\\#]+$/.test(value)) return value;
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function sameMachine(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase() === b.toLowerCase();
}

/**
 * Sets the password of `machine` (adding `login` when the entry is new or has none). A new entry goes
 * just before the `default` entry, which readers expect last, or at the end of the file.
 */
export function setNetrcPassword(doc: NetrcDocument, machine: string, login: string, password: string): string {
  const text = doc.text;
  const entry = doc.entries.find((e) => sameMachine(e.machine, machine));
  if (entry !== undefined) {
    const field = entry.fields.password;
    if (field !== undefined) {
      const replaced = text.slice(0, field.value.start) + formatNetrcValue(password) + text.slice(field.value.end);
      if (entry.fields.login !== undefined) return replaced;
      // The login goes just after the machine name, where a new entry has it.
      const at = entry.nameToken!.end;
      return replaced.slice(0, at) + ` login ${formatNetrcValue(login)}` + replaced.slice(at);
    }
    const addition =
      (entry.fields.login === undefined ? ` login ${formatNetrcValue(login)}` : '') + ` password ${formatNetrcValue(password)}`;
    return text.slice(0, entry.end) + addition + text.slice(entry.end);
  }
  const line = `machine ${formatNetrcValue(machine)} login ${formatNetrcValue(login)} password ${formatNetrcValue(password)}\n`;
  const fallback = doc.entries.find((e) => e.machine === undefined);
  if (fallback !== undefined) {
    const at = fallback.keyword.start;
    return text.slice(0, at) + line + text.slice(at);
  }
  let prefix = text;
  if (prefix !== '' && !prefix.endsWith('\n')) prefix += '\n';
  // Text after an unterminated macro body would become part of the macro: end it with a blank line.
  if (doc.endsInMacro) prefix += '\n';
  return prefix + line;
}

/** Removes every entry for `machine`; returns the new text and whether anything was removed. */
export function removeNetrcMachine(doc: NetrcDocument, machine: string): { text: string; removed: boolean } {
  let text = doc.text;
  const doomed = doc.entries.filter((e) => sameMachine(e.machine, machine));
  for (const entry of doomed.reverse()) {
    let start = entry.keyword.start;
    let end = entry.end;
    const lineStart = text.lastIndexOf('\n', start - 1) + 1;
    const onlyBlanksBefore = /^[ \t]*$/.test(text.slice(lineStart, start));
    while (end < text.length && (text[end] === ' ' || text[end] === '\t')) end++;
    const atLineEnd = end === text.length || text[end] === '\n' || text[end] === '\r';
    if (onlyBlanksBefore && atLineEnd) {
      // The entry filled its lines: take the lines away, not just the words.
      start = lineStart;
      if (text[end] === '\r') end++;
      if (text[end] === '\n') end++;
    } else if (!onlyBlanksBefore) {
      // Something precedes on the same line: keep one separator between it and what follows.
      while (start > lineStart && (text[start - 1] === ' ' || text[start - 1] === '\t')) start--;
      if (!atLineEnd) end = Math.max(start, end - 1);
    }
    text = text.slice(0, start) + text.slice(end);
  }
  // Make sure the result still parses the same way for the remaining entries.
  if (doomed.length > 0) parseNetrc(text, doc.file);
  return { text, removed: doomed.length > 0 };
}
