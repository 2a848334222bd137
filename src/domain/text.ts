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

/** The path (`a.b.0`) of the first key or string under `value` that contains a NUL, or undefined. */
export function pathOfNul(value: unknown): string | undefined {
  // One path, grown and shrunk as the walk goes: no copy per value. With a copy per value, the
  // largest publish metadata allowed (60,000 values, its NUL last) took 50-95 ms to refuse on the
  // event loop against 14-38 ms to accept; now 21-38 ms.
  const path: string[] = [];
  const named = () => path.join('.') || '(top level)';
  const walk = (item: unknown): string | undefined => {
    if (typeof item === 'string') return item.includes('\u0000') ? named() : undefined;
    if (typeof item !== 'object' || item === null) return undefined;
    if (Array.isArray(item)) {
      for (let i = 0; i < item.length; i++) {
        path.push(String(i));
        const found = walk(item[i]);
        path.pop();
        if (found !== undefined) return found;
      }
      return undefined;
    }
    for (const key of Object.keys(item)) {
      if (key.includes('\u0000')) return `${named()} (a key)`;
      path.push(key);
      const found = walk((item as Record<string, unknown>)[key]);
      path.pop();
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return walk(value);
}
