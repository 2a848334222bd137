// Local passwords, for small installations and for an emergency admin beside OIDC: argon2id
// hashes (@node-rs/argon2's defaults, OWASP's minimum: 19 MiB, 2 passes). Failed attempts are
// limited per login name from one address, per address and per login name from everywhere (see
// PasswordLimits); an unknown name costs the same hashing work as a known one, so timing does not
// tell which names exist. The limits are counted per process.

import { hash, verify } from '@node-rs/argon2';
import { invalid, unauthenticated } from '../domain/errors.js';
import type { LoginConfig } from '../config/oidc-schema.js';
import type { User, Users } from '../ports/users.js';
import { addressKey } from '../lib/address-key.js';
import { RateLimiter } from '../lib/rate-limiter.js';

export const MIN_PASSWORD_LENGTH = 8;
const MAX_PASSWORD_LENGTH = 1024;

export function hashPassword(password: string): Promise<string> {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw invalid('password-too-short', `a password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) throw invalid('password-too-long', `a password has at most ${MAX_PASSWORD_LENGTH} characters`);
  return hash(password);
}

/**
 * Failed attempts are counted three ways. Only failures count (a successful sign-in is taken back),
 * and an attempt refused by a limit is neither hashed nor counted, so an attacker who keeps trying
 * one name adds nothing once that name is refused.
 */
export interface PasswordLimits {
  /** For one user name from one address: what stops guessing one password from one place. */
  byLoginFromAddress: RateLimiter;
  /** From one address, all names together: what stops trying one password on many names. */
  byAddress: RateLimiter;
  /** For one user name, all addresses together: what stops guessing one password from many places. */
  byLogin: RateLimiter;
}

export function passwordLimits(settings: LoginConfig, now: () => number = Date.now): PasswordLimits {
  return {
    byLoginFromAddress: new RateLimiter(settings.attempts_per_minute_per_login, 'failed sign-in attempts for this user', now),
    byAddress: new RateLimiter(settings.attempts_per_minute_per_address, 'failed sign-in attempts from this address', now),
    byLogin: new RateLimiter(
      settings.attempts_per_minute_per_login_total,
      'failed sign-in attempts for this user from several addresses',
      now,
    ),
  };
}

export class PasswordLogin {
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly users: Pick<Users, 'findPasswordHash'>,
    private readonly limits: PasswordLimits,
  ) {}

  /** The user, or throws: `rate-limited` (with Retry-After) or `unauthenticated` with the reason. */
  async verify(login: string, password: string, address: string): Promise<User> {
    const name = login.toLowerCase();
    const from = addressKey(address);
    const counted: [RateLimiter, string][] = [
      // The name at this address is refused before the address is: an attacker's failures for one
      // name then lock out only that name here, not everyone behind the same address (NAT), until
      // they spread over enough names to look like what they are.
      [this.limits.byLoginFromAddress, `${from} ${name}`],
      [this.limits.byLogin, name],
      [this.limits.byAddress, from],
    ];
    for (const [limiter, key] of counted) limiter.assertNotExceeded(key);
    // Counted as a failure before the (slow) hashing and taken back on success, so that attempts
    // sent all at once cannot all slip under the limit before the first of them fails.
    const countedAt = counted.map(([limiter, key]) => limiter.record(key));
    const user = await this.check(login, password);
    counted.forEach(([limiter, key], i) => limiter.release(key, countedAt[i]!));
    return user;
  }

  private async check(login: string, password: string): Promise<User> {
    const found = login.length <= 64 && password.length <= MAX_PASSWORD_LENGTH ? await this.users.findPasswordHash(login) : undefined;
    const stored = found?.passwordHash ?? (await (this.dummyHash ??= hash('no such user: equal work')));
    const ok = (await verify(stored, password.slice(0, MAX_PASSWORD_LENGTH))) && found?.passwordHash != null;
    if (!ok) throw unauthenticated('wrong-password', 'wrong user name or password');
    return found!.user;
  }
}
