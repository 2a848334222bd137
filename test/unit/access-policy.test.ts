// AccessPolicy on its own: the first matching rule decides, `read` hides a crate from everyone it
// does not name (anonymous requests too), rule admins read and manage what their rule covers, and
// creating a crate needs both the right to publish and the right to read it, with a refusal that
// names the rule and never the crate.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccessPolicy } from '../../src/auth/access-policy.js';
import { RegistryError } from '../../src/domain/errors.js';
import type { TokenPrincipal } from '../../src/ports/tokens.js';

function user(login: string, groups: string[] = [], isAdmin = false): TokenPrincipal {
  return { tokenId: 1, userId: 1, login, isAdmin, expiresAt: null, scopes: null, cratePatterns: null, groups, origin: null };
}

const policy = new AccessPolicy([
  { crates: ['secret-*'], read: ['alice', 'group:team'], publish: ['alice'], admins: ['carol'] },
  { crates: ['secret-open'], read: ['mallory'] }, // shadowed by the rule above: never decides
  { crates: ['tools-*', 'tool'], publish: ['group:ops'] },
  { crates: ['locked'], read: [], publish: [] },
]);

function publishRefusal(principal: TokenPrincipal, crate: string): RegistryError | undefined {
  try {
    policy.assertMayPublishNew(principal, crate);
    return undefined;
  } catch (error) {
    assert.ok(error instanceof RegistryError, String(error));
    return error;
  }
}

describe('AccessPolicy', () => {
  it('hides a crate under a read rule from everyone the rule does not name, anonymous requests included', () => {
    assert.equal(policy.mayRead(null, 'secret-thing'), false);
    assert.equal(policy.mayRead(user('bob'), 'secret-thing'), false);
    assert.equal(policy.mayRead(user('bob', ['other']), 'secret-thing'), false);
    assert.equal(policy.mayRead(user('alice'), 'secret-thing'), true);
    assert.equal(policy.mayRead(user('bob', ['team']), 'secret-thing'), true);
  });

  it('matches crate names as cargo compares them (case and - or _ do not matter)', () => {
    assert.equal(policy.mayRead(user('bob'), 'Secret_Thing'), false);
    assert.equal(policy.mayRead(user('bob'), 'SECRET-THING'), false);
    assert.equal(policy.mayRead(null, 'LOCKED'), false);
  });

  it('a login is not a group, and a group is not a login', () => {
    // `team` is a group in the rule: a user whose login is `team` is not in it.
    assert.equal(policy.mayRead(user('team'), 'secret-thing'), false);
    // `alice` is a login in the rule: membership of a group called `alice` does not count.
    assert.equal(policy.mayRead(user('bob', ['alice']), 'secret-thing'), false);
    // `group:team` as a login does not match either.
    assert.equal(policy.mayRead(user('group:team'), 'secret-thing'), false);
  });

  it('the first matching rule decides: a later rule cannot open what an earlier one hides', () => {
    assert.equal(policy.mayRead(user('mallory'), 'secret-open'), false);
    assert.equal(policy.mayRead(user('alice'), 'secret-open'), true);
  });

  it('an empty read list hides the crate from every user but global admins', () => {
    assert.equal(policy.mayRead(user('alice'), 'locked'), false);
    assert.equal(policy.mayRead(user('root', [], true), 'locked'), true);
  });

  it('a crate no read rule limits is open to everyone, anonymous too', () => {
    assert.equal(policy.mayRead(null, 'serde'), true);
    assert.equal(policy.mayRead(null, 'tools-x'), true);
    assert.equal(policy.mayRead(user('bob'), 'secretive'), true, '`secret-*` does not match `secretive`');
  });

  it('restrictsReading says whether any rule limits reading', () => {
    assert.equal(policy.restrictsReading, true);
    assert.equal(new AccessPolicy([{ crates: ['tools-*'], publish: ['x'], admins: ['y'] }]).restrictsReading, false);
    assert.equal(new AccessPolicy([]).restrictsReading, false);
  });

  it('rule admins read and manage the crates of their rule, and only those', () => {
    assert.equal(policy.mayRead(user('carol'), 'secret-thing'), true);
    assert.equal(policy.isCrateAdmin(user('carol'), 'secret-thing'), true);
    assert.equal(policy.isCrateAdmin(user('carol'), 'tools-x'), false);
    assert.equal(policy.isCrateAdmin(user('alice'), 'secret-thing'), false, 'readers are not admins');
    assert.equal(policy.isCrateAdmin(null, 'secret-thing'), false);
    assert.equal(policy.isCrateAdmin(null, 'serde'), false);
    assert.equal(policy.isCrateAdmin(user('root', [], true), 'serde'), true);
  });

  it('publishing a new crate: allowed where no rule matches, and for the publishers and admins of a rule', () => {
    assert.equal(publishRefusal(user('bob'), 'serde'), undefined);
    assert.equal(publishRefusal(user('alice'), 'secret-thing'), undefined);
    assert.equal(publishRefusal(user('carol'), 'secret-thing'), undefined);
    assert.equal(publishRefusal(user('bob', ['ops']), 'tools-x'), undefined);
    assert.equal(publishRefusal(user('bob', ['ops']), 'tool'), undefined);
    assert.equal(publishRefusal(user('root', [], true), 'locked'), undefined);
  });

  it('publishing a new crate is refused to who is not in the publish list, naming the rule', () => {
    const refusal = publishRefusal(user('bob'), 'tools-x');
    assert.equal(refusal?.kind, 'forbidden');
    assert.equal(refusal?.code, 'publish-not-allowed');
    assert.match(refusal!.message, /`tools-\*`, `tool`/);
    assert.match(refusal!.message, /access rule 3 allows group:ops/);
    assert.equal(publishRefusal(user('alice'), 'locked')?.code, 'publish-not-allowed');
    assert.match(publishRefusal(user('alice'), 'locked')!.message, /allows nobody/);
  });

  it('publishing a new crate needs the right to read it, even with the right to publish', () => {
    const readOnlyRule = new AccessPolicy([{ crates: ['hidden-*'], read: ['alice'] }]);
    assert.throws(
      () => readOnlyRule.assertMayPublishNew(user('bob'), 'hidden-one'),
      (error: unknown) => {
        assert.ok(error instanceof RegistryError);
        assert.equal(error.code, 'publish-not-allowed');
        assert.match(error.message, /access rule 1 lets only alice read them/);
        return true;
      },
    );
    readOnlyRule.assertMayPublishNew(user('alice'), 'hidden-one');
    // A reader through a group who is not a publisher is refused for the publish list.
    assert.equal(publishRefusal(user('bob', ['team']), 'secret-thing')?.code, 'publish-not-allowed');
  });

  it('the refusal names the rule, never the crate: a hidden name and a free name get the same answer', () => {
    const hidden = publishRefusal(user('bob'), 'secret-existing-crate');
    const free = publishRefusal(user('bob'), 'secret-free-name');
    assert.ok(hidden && free);
    assert.equal(hidden.message, free.message);
    assert.doesNotMatch(hidden.message, /existing/);
  });
});
