// Crate owners: list, add, remove. Owners are users, named by login.

import { notFound } from '../domain/errors.js';
import type { AccessPolicy } from '../auth/access-policy.js';
import type { MetadataStore, TokenPrincipal, User } from '../ports/metadata-store.js';
import { ownersOf, requireOwner } from './ownership.js';

export class OwnersService {
  constructor(
    private readonly store: MetadataStore,
    private readonly policy: AccessPolicy,
  ) {}

  list(principal: TokenPrincipal | null, name: string): Promise<User[]> {
    return ownersOf(this.store, this.policy, principal, name);
  }

  private async usersByLogin(logins: string[]): Promise<User[]> {
    const users: User[] = [];
    for (const login of logins) {
      const user = await this.store.findUserByLogin(login);
      if (!user) throw notFound('user-not-found', `there is no user \`${login}\``);
      users.push(user);
    }
    return users;
  }

  async add(principal: TokenPrincipal, name: string, logins: string[]): Promise<string> {
    await requireOwner(this.store, this.policy, principal, name, 'change-owners');
    const users = await this.usersByLogin(logins);
    await this.store.addOwners(name.toLowerCase(), users.map((u) => u.id));
    return `${users.map((u) => `user ${u.login}`).join(', ')} added as owner${users.length === 1 ? '' : 's'} of crate ${name}`;
  }

  async remove(principal: TokenPrincipal, name: string, logins: string[]): Promise<string> {
    const owners = await requireOwner(this.store, this.policy, principal, name, 'change-owners');
    const users = await this.usersByLogin(logins);
    const notOwner = users.find((u) => !owners.some((o) => o.id === u.id));
    if (notOwner) throw notFound('not-an-owner', `user \`${notOwner.login}\` is not an owner of crate \`${name}\``);
    await this.store.removeOwners(name.toLowerCase(), users.map((u) => u.id));
    return `${users.map((u) => `user ${u.login}`).join(', ')} removed as owner${users.length === 1 ? '' : 's'} of crate ${name}`;
  }
}
