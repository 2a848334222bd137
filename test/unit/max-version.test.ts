import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IndexEntry } from '../../src/domain/index-line.js';
import { maxVersion } from '../../src/domain/max-version.js';

const v = (vers: string, yanked = false) => ({ entry: { vers } as IndexEntry, yanked });

describe('the version search shows', () => {
  it('is the highest stable version that is not yanked', () => {
    assert.equal(maxVersion([v('1.0.0'), v('1.10.0'), v('1.9.0'), v('2.0.0-beta.1'), v('1.11.0', true)]), '1.10.0');
  });
  it('falls back to pre-releases, then to yanked versions', () => {
    assert.equal(maxVersion([v('0.1.0-alpha'), v('0.1.0-beta'), v('1.0.0', true)]), '0.1.0-beta');
    assert.equal(maxVersion([v('1.0.0', true), v('0.9.0', true)]), '1.0.0');
  });
});
