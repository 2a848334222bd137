// Mirrored index files as the mirror caches and stores them: a stored file reads back as it was,
// and a cached body holds memory of its own, not the slab or stored blob it was cut from.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCachedFile, encodeCachedFile, makeCachedFile } from '../../src/mirror/cached-file.js';

describe('cached mirror files', () => {
  const line = '{"name":"itoa","vers":"1.0.0","deps":[],"cksum":"00","features":{},"yanked":false}\n';

  it('reads back a stored file with its validators and ETag', () => {
    const file = makeCachedFile({
      present: true,
      body: Buffer.from(line),
      upstreamEtag: '"up"',
      lastModified: 'Thu, 03 Dec 2026 10:00:00 GMT',
      fetchedAt: 1234,
    });
    const back = decodeCachedFile(encodeCachedFile(file))!;
    assert.equal(back.body.toString(), line);
    assert.deepEqual({ ...back, body: undefined }, { ...file, body: undefined });
  });

  it('keeps a small body, and one read from a stored blob, in a buffer of its own', () => {
    const pooled = Buffer.from(line); // small: cut from Node's shared 8 KiB pool
    assert.notEqual(pooled.buffer.byteLength, pooled.length, 'the premise: a pooled buffer shares its slab');
    const file = makeCachedFile({ present: true, body: pooled, upstreamEtag: undefined, lastModified: undefined, fetchedAt: 1 });
    assert.equal(file.body.buffer.byteLength, file.body.length);
    const decoded = decodeCachedFile(encodeCachedFile(file))!;
    assert.equal(decoded.body.buffer.byteLength, decoded.body.length);
    assert.equal(decoded.body.toString(), line);
  });
});
