import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ERROR_CODES, isErrorCode, RegistryError, type ErrorCode } from '../../src/domain/errors.js';

const SRC = fileURLToPath(new URL('../../../src', import.meta.url));
const LIST_FILE = join(SRC, 'domain', 'error-codes.ts');

/** Codes that src builds from a template rather than writing out: the source text that builds each. */
const COMPOSED: Partial<Record<ErrorCode, string>> = {
  'database-unavailable': "dependencyUnavailable('database'",
  'storage-unavailable': "dependencyUnavailable('storage'",
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && path !== LIST_FILE ? [path] : [];
  });
}

describe('error codes', () => {
  it('are each used somewhere in src, so the list holds no stale code', () => {
    const source = sourceFiles(SRC)
      .map((path) => readFileSync(path, 'utf8'))
      .join('\n');
    const unused = ERROR_CODES.filter((code) => {
      const composedBy = COMPOSED[code];
      if (composedBy !== undefined) return !source.includes(composedBy);
      return !source.includes(`'${code}'`) && !source.includes(`"${code}"`);
    });
    assert.deepEqual(unused, []);
  });

  it('are unique and kebab-case', () => {
    assert.equal(new Set(ERROR_CODES).size, ERROR_CODES.length);
    for (const code of ERROR_CODES) assert.match(code, /^[a-z0-9]+(-[a-z0-9]+)*$/, code);
  });

  it('recognises its own codes and nothing else (codes that arrive as plain strings)', () => {
    for (const code of ERROR_CODES) assert.equal(isErrorCode(code), true, code);
    for (const other of ['user-exsits', '', 'USER-EXISTS', ' user-exists', 'ENOENT', undefined, 42, null]) {
      assert.equal(isErrorCode(other), false, String(other));
    }
  });

  it('form a closed union: a misspelt code does not compile', () => {
    const error = new RegistryError('conflict', 'user-exists', 'that user exists');
    // If ErrorCode ever widens back to string, these directives go unused and tsc fails.
    // @ts-expect-error 'user-exsits' is not an ErrorCode
    const misspelt: ErrorCode = 'user-exsits';
    // @ts-expect-error comparing a code with a string that no error carries
    const neverTrue = error.code === 'user-exsits';
    assert.equal(misspelt === error.code, false);
    assert.equal(neverTrue, false);
  });
});
