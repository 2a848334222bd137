import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LruCache } from '../../src/lib/lru-cache.js';

describe('LRU cache', () => {
  it('evicts the oldest entry that was not used since it was last passed over', () => {
    const cache = new LruCache<string, number>(3);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    assert.equal(cache.get('a'), 1); // a gets a second chance
    cache.set('d', 4); // evicts b
    assert.equal(cache.get('b'), undefined);
    assert.deepEqual(
      ['a', 'c', 'd'].map((k) => cache.get(k)),
      [1, 3, 4],
    );
    assert.equal(cache.size, 3);
  });

  it('bounds the total cost, and skips values larger than the bound', () => {
    const cache = new LruCache<string, string>(10, (v) => v.length);
    cache.set('x', 'aaaa');
    cache.set('y', 'bbbb');
    cache.set('z', 'cccc');
    assert.equal(cache.get('x'), undefined);
    assert.equal(cache.size, 2);
    cache.set('huge', 'h'.repeat(11));
    assert.equal(cache.get('huge'), undefined);
    assert.equal(cache.get('z'), 'cccc');
  });

  it('replaces, deletes and deletes by predicate', () => {
    const cache = new LruCache<string, number>(100);
    cache.set('a', 1);
    cache.set('a', 2);
    assert.equal(cache.get('a'), 2);
    assert.equal(cache.size, 1);
    cache.set('b', 3);
    cache.deleteWhere((v) => v > 2);
    assert.equal(cache.get('b'), undefined);
    cache.delete('a');
    assert.equal(cache.size, 0);
  });
});
