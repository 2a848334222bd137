import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crateNameFromIndexPath, indexPathOf, normalizeCrateName, parseCrateName } from '../../src/domain/crate-name.js';
import { RegistryError } from '../../src/domain/errors.js';

function rejection(name: unknown): string {
  try {
    parseCrateName(name);
  } catch (error) {
    assert.ok(error instanceof RegistryError);
    return error.message;
  }
  return assert.fail(`${String(name)} was accepted`);
}

describe('crate names', () => {
  it('accepts letters, digits, - and _, starting with a letter, up to 64 characters', () => {
    for (const name of ['a', 'serde', 'Serde_JSON-2', 'x'.repeat(64)]) assert.equal(parseCrateName(name), name);
  });

  it('rejects names with a clear reason', () => {
    assert.match(rejection(''), /missing or empty/);
    assert.match(rejection(42), /missing or empty/);
    assert.match(rejection('1abc'), /must start with an ASCII letter/);
    assert.match(rejection('_abc'), /must start with an ASCII letter/);
    assert.match(rejection('a.b'), /contains `\.`/);
    assert.match(rejection('café'), /contains `é`/);
    assert.match(rejection('a b'), /contains ` `/);
    assert.match(rejection('x'.repeat(65)), /too long \(65 characters, at most 64\)/);
  });

  it('rejects reserved names in any spelling', () => {
    for (const name of ['std', 'core', 'alloc', 'proc_macro', 'proc-macro', 'test', 'Std', 'nul', 'COM1']) {
      assert.match(rejection(name), /is reserved/, name);
    }
  });

  it('treats case and -/_ as the same name', () => {
    assert.equal(normalizeCrateName('Foo-Bar_baz'), 'foo_bar_baz');
  });

  it('maps names to sparse index paths and back', () => {
    assert.equal(indexPathOf('a'), '1/a');
    assert.equal(indexPathOf('ab'), '2/ab');
    assert.equal(indexPathOf('Abc'), '3/a/abc');
    assert.equal(indexPathOf('Serde'), 'se/rd/serde');
    for (const name of ['a', 'ab', 'abc', 'serde', 'foo-bar']) assert.equal(crateNameFromIndexPath(indexPathOf(name)), name);
    assert.equal(crateNameFromIndexPath('se/rd/SERDE'), undefined, 'index paths are lower case');
    assert.equal(crateNameFromIndexPath('xx/yy/serde'), undefined, 'prefix must match the name');
    assert.equal(crateNameFromIndexPath('3/b/abc'), undefined);
    assert.equal(crateNameFromIndexPath('se/rd/../serde'), undefined);
    assert.equal(crateNameFromIndexPath('config.json'), undefined);
  });

  it('reads every character of an index path: any one changed names no crate', () => {
    for (const name of ['a', 'ab', 'abc', 'abcd', 'se_rd-e2']) {
      const path = indexPathOf(name);
      for (let i = 0; i < path.length; i++) {
        for (const replacement of ['x', 'A', '9', '/', '-', '.', '%']) {
          if (replacement === path[i]) continue;
          const changed = path.slice(0, i) + replacement + path.slice(i + 1);
          const named = crateNameFromIndexPath(changed);
          // A change in the name's own characters may name another crate, but only by that crate's own path.
          if (named !== undefined) assert.equal(indexPathOf(named), changed, `${changed} named ${named}`);
          if (i < path.length - name.length) assert.equal(named, undefined, `${changed}: a directory changed`);
        }
      }
    }
  });
});
