// Local passwords, for small installations and for an emergency admin beside OIDC: argon2id
// hashes (@node-rs/argon2's defaults, OWASP's minimum: 19 MiB, 2 passes). A sign-in attempt is
// limited per client address and per login name; an unknown name costs the same hashing work as a
// known one, so timing does not tell which names exist.

import { hash, verify } from '@node-rs/argon2';
import { invalid, unauthenticated } from '../domain/errors.js';
import type { MetadataStore, User } from '../ports/metadata-store.js';
import type { RateLimiter } from '../services/rate-limiter.js';

export const MIN_PASSWORD_LENGTH = 8;
const MAX_PASSWORD_LENGTH = 1024;

export function hashPassword(password: string): Promise<string> {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw invalid('password-too-short', `a password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) throw invalid('password-too-long', `a password has at most ${MAX_PASSWORD_LENGTH} characters`);
  return hash(password);
}

export class PasswordLogin {
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly store: MetadataStore,
    private readonly attemptsByAddress: RateLimiter,
    private readonly failuresByLogin: RateLimiter,
  ) {}

  /** The user, or throws: `rate-limited` (with Retry-After) or `unauthenticated` with the reason. */
  async verify(login: string, password: string, address: string): Promise<User> {
    this.attemptsByAddress.take(address);
    const key = login.toLowerCase();
    this.failuresByLogin.assertNotExceeded(key);
    const found = login.length <= 64 && password.length <= MAX_PASSWORD_LENGTH ? await this.store.findPasswordHash(login) : undefined;
    const stored = found?.passwordHash ?? (await (this.dummyHash ??= hash('no such user: equal work')));
    const ok = (await verify(stored, password.slice(0, MAX_PASSWORD_LENGTH))) && found?.passwordHash != null;
    if (!ok) {
      this.failuresByLogin.record(key);
      throw unauthenticated('wrong-password', 'wrong user name or password');
    }
    return found!.user;
  }
}
