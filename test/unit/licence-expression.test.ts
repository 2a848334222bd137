import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistryError } from '../../src/domain/errors.js';
import {
  judgeLicenceExpression,
  normalizeLicenceText,
  parseLicenceExpression,
  parseLicenceListEntry,
  type LicenceLists,
} from '../../src/domain/licence-expression.js';
import { judgeDeclaredLicence, type LicencePolicy } from '../../src/domain/licence-policy.js';

const permissive: LicenceLists = { allow: ['MIT', 'Apache-2.0'], deny: [] };

function allowed(expression: string, lists: LicenceLists): boolean {
  return judgeLicenceExpression(parseLicenceExpression(expression), lists).allowed;
}

describe('SPDX licence expressions against allow and deny lists', () => {
  const table: Array<[string, LicenceLists, boolean]> = [
    ['MIT', permissive, true],
    ['GPL-3.0-only', permissive, false],
    // OR: either side is enough.
    ['MIT OR Apache-2.0', permissive, true],
    ['GPL-3.0-only OR MIT', permissive, true],
    ['GPL-3.0-only OR LGPL-2.1-only', permissive, false],
    // AND: both are needed.
    ['MIT AND Apache-2.0', permissive, true],
    ['MIT AND GPL-3.0-only', permissive, false],
    // Parentheses and precedence (AND binds tighter than OR).
    ['(MIT OR GPL-3.0-only) AND Apache-2.0', permissive, true],
    ['(MIT OR GPL-3.0-only) AND BSD-3-Clause', permissive, false],
    ['GPL-3.0-only AND BSD-3-Clause OR MIT', permissive, true],
    ['GPL-3.0-only AND (BSD-3-Clause OR MIT)', permissive, false],
    // Cargo's legacy separator means OR.
    ['MIT/Apache-2.0', permissive, true],
    ['GPL-3.0-only/MIT', permissive, true],
    ['GPL-3.0-only / LGPL-2.1-only', permissive, false],
    // WITH: the exact form, or the base licence, allows it.
    ['Apache-2.0 WITH LLVM-exception', permissive, true],
    ['GPL-2.0-only WITH Classpath-exception-2.0', permissive, false],
    ['GPL-2.0-only WITH Classpath-exception-2.0', { allow: ['GPL-2.0-only WITH Classpath-exception-2.0'], deny: [] }, true],
    ['GPL-2.0-only', { allow: ['GPL-2.0-only WITH Classpath-exception-2.0'], deny: [] }, false],
    // `+` and -or-later ranges.
    ['GPL-3.0-or-later', { allow: ['GPL-2.0+'], deny: [] }, true],
    ['GPL-3.0+', { allow: ['GPL-2.0-or-later'], deny: [] }, true],
    ['GPL-1.0-only', { allow: ['GPL-2.0+'], deny: [] }, false],
    // Deny wins over allow, also through a range.
    ['MIT', { allow: ['MIT'], deny: ['MIT'] }, false],
    ['MIT OR Apache-2.0', { allow: ['MIT', 'Apache-2.0'], deny: ['MIT'] }, true],
    ['GPL-3.0-only', { allow: [], deny: ['GPL-2.0+'] }, false],
    ['Apache-2.0 WITH LLVM-exception', { allow: [], deny: ['Apache-2.0'] }, false],
    // An empty allow-list allows everything not denied.
    ['BSD-3-Clause', { allow: [], deny: ['GPL-3.0-only'] }, true],
    ['LicenseRef-Proprietary', { allow: [], deny: [] }, true],
    ['LicenseRef-Proprietary', permissive, false],
  ];
  for (const [expression, lists, expected] of table) {
    it(`${expression} with allow [${lists.allow.join(', ')}], deny [${lists.deny.join(', ')}]: ${expected ? 'allowed' : 'refused'}`, () => {
      assert.equal(allowed(expression, lists), expected);
    });
  }

  it('refuses garbage with a clear message', () => {
    for (const garbage of ['Apache 2', 'MIT OR', 'mit', '(MIT', 'MIT AND AND Apache-2.0', 'GPL-2.0 WITH', 'MIT/Apache-2.0 AND ISC']) {
      assert.throws(
        () => parseLicenceExpression(garbage),
        (error: unknown) => {
          assert.ok(error instanceof RegistryError);
          assert.equal(error.code, 'licence-expression-invalid');
          assert.ok(error.message.includes(`\`${garbage}\``), error.message);
          return true;
        },
        garbage,
      );
    }
    assert.match(String(catchMessage(() => parseLicenceExpression('Apache 2'))), /not a valid SPDX expression/);
    assert.match(String(catchMessage(() => parseLicenceExpression('MIT/Apache-2.0 AND ISC'))), /legacy `\/` separator/);
  });

  it('turns the legacy separator into OR', () => {
    assert.equal(normalizeLicenceText(' MIT / Apache-2.0 '), 'MIT OR Apache-2.0');
    assert.equal(normalizeLicenceText('MIT OR Apache-2.0'), 'MIT OR Apache-2.0');
  });

  it('takes single licences in the lists, never expressions or unknown words', () => {
    assert.equal(parseLicenceListEntry('Apache-2.0 WITH LLVM-exception'), 'Apache-2.0 WITH LLVM-exception');
    assert.equal(parseLicenceListEntry('GPL-2.0+'), 'GPL-2.0+');
    assert.throws(() => parseLicenceListEntry('MIT OR Apache-2.0'), /is an expression/);
    assert.throws(() => parseLicenceListEntry('Apache 2'), /not an SPDX licence identifier/);
  });
});

function catchMessage(f: () => unknown): string | undefined {
  try {
    f();
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

describe('a declared licence judged by a licence rule', () => {
  const policy: LicencePolicy = { allow: ['MIT', 'Apache-2.0'], deny: [], licenceFile: 'deny', missing: 'deny' };

  it('names the licence and the rule', () => {
    const verdict = judgeDeclaredLicence({ license: 'GPL-3.0-only' }, policy, 'this registry');
    assert.deepEqual(verdict, {
      allowed: false,
      effect: 'deny',
      licence: 'GPL-3.0-only',
      reason: 'licence `GPL-3.0-only` is not allowed in this registry: allowed are MIT, Apache-2.0',
    });
    const denied = judgeDeclaredLicence({ license: 'MIT AND GPL-3.0-only' }, { ...policy, deny: ['GPL-3.0-only'] }, 'upstream `b`');
    assert.equal(denied.allowed, false);
    assert.match(
      (denied as { reason: string }).reason,
      /^licence `MIT AND GPL-3\.0-only` is not allowed in upstream `b` \(`GPL-3\.0-only` is denied\): allowed are MIT, Apache-2\.0; denied are GPL-3\.0-only$/,
    );
  });

  it('judges by the expression when there is one, and refuses an invalid one', () => {
    assert.deepEqual(judgeDeclaredLicence({ license: 'MIT', licenseFile: 'LICENSE' }, policy, 'this registry'), { allowed: true });
    const garbage = judgeDeclaredLicence({ license: 'Apache 2' }, { ...policy, allow: [] }, 'this registry');
    assert.equal(garbage.allowed, false);
    assert.match((garbage as { reason: string }).reason, /not a valid SPDX expression.*licence rule of this registry/);
  });

  it('decides a licence file alone, and a missing licence, as configured', () => {
    const fileOnly = judgeDeclaredLicence({ licenseFile: 'LICENSE.txt' }, policy, 'this registry');
    assert.equal(fileOnly.allowed, false);
    assert.match((fileOnly as { reason: string }).reason, /only a licence file \(`LICENSE\.txt`\).*licence_file = "deny"/);
    assert.deepEqual(judgeDeclaredLicence({ licenseFile: 'LICENSE.txt' }, { ...policy, licenceFile: 'allow' }, 'x'), { allowed: true });
    const none = judgeDeclaredLicence({ license: null, licenseFile: null }, policy, 'this registry');
    assert.equal(none.allowed, false);
    assert.match((none as { reason: string }).reason, /no licence is declared.*licence_missing = "deny"/);
    assert.deepEqual(judgeDeclaredLicence({ license: '  ' }, { ...policy, missing: 'allow' }, 'x'), { allowed: true });
    const warned = judgeDeclaredLicence({}, { ...policy, missing: 'warn' }, 'x');
    assert.equal(warned.allowed === false && warned.effect, 'warn');
    assert.match((warned as { reason: string }).reason, /licence_missing = "warn"/);
  });
});
