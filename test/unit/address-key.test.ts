// The key a client address is counted under: an IPv6 address as its /64, an IPv4-mapped one as
// its IPv4 address, anything else as itself.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressKey } from '../../src/lib/address-key.js';

describe('addressKey', () => {
  it('counts every address of one IPv6 /64 as one key, whatever its spelling', () => {
    const key = addressKey('2001:db8:1:2::1');
    assert.equal(key, '2001:db8:1:2::/64');
    for (const same of [
      '2001:db8:1:2:ffff:ffff:ffff:ffff',
      '2001:0DB8:0001:0002:0:0:0:7',
      '2001:db8:1:2:aaaa::1.2.3.4',
      '2001:db8:1:2::1%eth0',
    ]) {
      assert.equal(addressKey(same), key, same);
    }
    assert.notEqual(addressKey('2001:db8:1:3::1'), key);
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('fe80::1'), 'fe80:0:0:0::/64');
    assert.equal(addressKey('2001:db8::'), '2001:db8:0:0::/64');
  });

  it('counts an IPv4-mapped address as the IPv4 address, and leaves IPv4 and other keys as they are', () => {
    assert.equal(addressKey('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(addressKey('::FFFF:192.0.2.1'), '192.0.2.1');
    assert.equal(addressKey('192.0.2.1'), '192.0.2.1');
    assert.equal(addressKey(''), '');
    assert.equal(addressKey('not an address'), 'not an address');
  });
});
