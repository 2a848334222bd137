import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateToken, hashToken, isWellFormedToken, tokenFromAuthorizationHeader, TOKEN_PREFIX } from '../../src/domain/token.js';

describe('tokens', () => {
  it('carry a recognisable prefix, 256 random bits and a checksum', () => {
    const tokens = new Set(Array.from({ length: 200 }, generateToken));
    assert.equal(tokens.size, 200);
    for (const t of tokens) {
      assert.ok(t.startsWith(TOKEN_PREFIX));
      assert.match(t, /^ckt_[0-9A-Za-z]{49}$/);
      assert.ok(isWellFormedToken(t));
    }
    // 43 base-62 characters hold at least 256 bits.
    assert.ok(43 * Math.log2(62) >= 256);
  });

  it('detect a mistyped token by its checksum', () => {
    const t = generateToken();
    const flipped = t.slice(0, 10) + (t[10] === 'a' ? 'b' : 'a') + t.slice(11);
    assert.equal(isWellFormedToken(flipped), false);
    assert.equal(isWellFormedToken(t + 'x'), false);
    assert.equal(isWellFormedToken('cio1234'), false);
  });

  it('are stored as a SHA-256 hash, never in clear', () => {
    const t = generateToken();
    assert.match(hashToken(t), /^[0-9a-f]{64}$/);
    assert.notEqual(hashToken(t), hashToken(generateToken()));
  });

  it('are read from raw and Bearer Authorization headers', () => {
    assert.equal(tokenFromAuthorizationHeader('ckt_abc'), 'ckt_abc');
    assert.equal(tokenFromAuthorizationHeader('Bearer ckt_abc'), 'ckt_abc');
    assert.equal(tokenFromAuthorizationHeader('bearer  ckt_abc '), 'ckt_abc');
    assert.equal(tokenFromAuthorizationHeader(''), undefined);
    assert.equal(tokenFromAuthorizationHeader(undefined), undefined);
  });
});
