// What a token may do beyond what its user may: its scopes and crate patterns. A token can only
// narrow its user's rights. Crate patterns limit what a token may change (publish, yank, owners),
// not what it may read, so that a CI token for `foo-*` can still build against its dependencies.

import { matchesAnyCratePattern, parseCratePattern } from '../domain/crate-pattern.js';
import { forbidden } from '../domain/errors.js';
import type { TokenScope } from '../domain/token-scope.js';
import type { TokenPrincipal } from '../ports/tokens.js';

export function hasScope(principal: TokenPrincipal, scope: TokenScope): boolean {
  return principal.scopes === null || principal.scopes.includes(scope);
}

/** Throws `forbidden` naming the missing scope, or the patterns the crate is outside of. */
export function assertTokenAllows(principal: TokenPrincipal, scope: TokenScope, crateName?: string): void {
  if (!hasScope(principal, scope)) {
    throw forbidden('token-scope-missing', `this token lacks the \`${scope}\` scope (it has: ${principal.scopes!.join(', ')})`);
  }
  if (crateName === undefined || principal.cratePatterns === null) return;
  if (!matchesAnyCratePattern(principal.cratePatterns.map(parseCratePattern), crateName)) {
    throw forbidden(
      'token-crate-pattern',
      `this token is limited to crates matching ${principal.cratePatterns.map((p) => `\`${p}\``).join(', ')}, and \`${crateName}\` is not one of them`,
    );
  }
}

/**
 * The administration API: an administrator's token with the `admin` scope (every unrestricted
 * token has it) and no crate patterns. A token narrowed to `read` or to `foo-*` reads no admin data.
 */
export function assertAdminToken(principal: TokenPrincipal, what: string): void {
  if (!principal.isAdmin) throw forbidden('admin-only', `only administrators may ${what}`);
  if (!hasScope(principal, 'admin') || principal.cratePatterns !== null) {
    throw forbidden(
      'token-scope-missing',
      'the administration API needs a token with the `admin` scope (or every scope) and no crate patterns; this token is narrower',
    );
  }
}
