// Fuzzes auth patterns (client/auth-pattern.ts): any text parses or fails with AuthPatternError;
// rendering any credentials gives a header value without line breaks or control characters (no
// header injection) or fails with AuthPatternError; and what is rendered carries the credentials
// where the pattern says (Basic: base64 of login:password; templates: the values in place).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AuthPatternError, parseAuthPattern, renderAuthPattern } from '../../src/auth-pattern.js';
import { checkProperty } from '@cratekeeper/test-support/fuzz-check';

const file = import.meta.url;
const CONTROL = /[\0-\x08\n-\x1f\x7f]/;

const patternText = fc.oneof(
  fc.constantFrom(
    'basic',
    'BASIC',
    ' bearer ',
    'token',
    'raw',
    'custom_prefix:token',
    'custom_prefix:prefix=Key',
    'custom_prefix:',
    'custom_prefix:two words',
    'Bearer <password>',
    '<login>:<password>',
    '<LOGIN>',
    '<>',
    '<pass<word>>',
    'token <password>\r\nX-Evil: 1',
    'x',
  ),
  fc
    .array(
      fc.oneof(fc.constantFrom('<login>', '<password>', '<', '>', ' ', '\n', 'Bearer', 'custom_prefix:'), fc.string({ maxLength: 6 })),
      { maxLength: 6 },
    )
    .map((p) => p.join('')),
  fc.string({ unit: 'binary', maxLength: 30 }),
);
const secret = fc.option(
  fc.oneof(
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.constantFrom('ckt_abc', 'a\r\nSet-Cookie: x', 'tab\there', '<password>', '$&', '$1'),
  ),
  { nil: undefined },
);

function parsed(text: string) {
  try {
    return parseAuthPattern(text);
  } catch (error) {
    assert.ok(error instanceof AuthPatternError, `parseAuthPattern threw ${String(error)}`);
    assert.ok(error.message.length > 0);
    return undefined;
  }
}

describe('fuzz: auth patterns', () => {
  it('any pattern text parses or fails with AuthPatternError', async () => {
    await checkProperty(
      fc.property(patternText, (text) => {
        parsed(text);
      }),
      { runs: 4000, file, name: 'any pattern text' },
    );
  });

  it('a rendered header never carries a control character, and carries the credentials as the pattern says', async () => {
    await checkProperty(
      fc.property(patternText, secret, secret, (text, login, password) => {
        const pattern = parsed(text);
        if (pattern === undefined) return;
        let value: string;
        try {
          value = renderAuthPattern(pattern, { login, password }, 'fuzz');
        } catch (error) {
          assert.ok(error instanceof AuthPatternError, `renderAuthPattern threw ${String(error)}`);
          return;
        }
        assert.ok(!CONTROL.test(value), `control character in ${JSON.stringify(value)}`);
        if (pattern.kind === 'basic') {
          assert.equal(value, `Basic ${Buffer.from(`${login}:${password ?? ''}`, 'utf8').toString('base64')}`);
        } else {
          // Each placeholder is replaced by the value itself, never by a re-interpreted `$&` or `<password>`.
          const expected = pattern.template
            .split(/(<login>|<password>)/)
            .map((part) => (part === '<login>' ? login : part === '<password>' ? password : part))
            .join('');
          assert.equal(value, expected);
        }
      }),
      { runs: 4000, file, name: 'a rendered header' },
    );
  });
});
