// NUL (U+0000) in text a request brings. No crate name, description, login or search needs it,
// PostgreSQL cannot hold it in `text` at all, and SQLite would keep it where PostgreSQL fails: so
// the places that take free text refuse it by name (the publish metadata, the search query), and
// the PostgreSQL adapter turns the database's refusal of any other into the same 400.

import { invalid, type RegistryError } from './errors.js';

/** `what` contains a NUL: the sentence that says so (showing the character without containing it). */
export const containsNul = (what: string) => `${what} contains a NUL character (\\u0000)`;

/** The request's fault, when all that is known is that some value held a NUL. */
export function textWithNul(): RegistryError {
  return invalid('text-with-nul', `${containsNul('a value in the request')}, which this registry cannot store or search for`);
}

const named = (path: string[]) => path.join('.') || '(top level)';

/** The path (`a.b.0`) of the first key or string under `value` that contains a NUL, or undefined. */
export function pathOfNul(value: unknown, path: string[] = []): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? named(path) : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = pathOfNul(value[i], [...path, String(i)]);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    if (key.includes('\u0000')) return `${named(path)} (a key)`;
    const found = pathOfNul(item, [...path, key]);
    if (found !== undefined) return found;
  }
  return undefined;
}
