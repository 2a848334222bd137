// Crate owners: list, add, remove. An owner is a user, by login, or a group, as `group:NAME`, all of
// whose members are owners.

import { notFound } from '../domain/errors.js';
import type { AccessPolicy } from '../auth/access-policy.js';
import { newOccurrence } from '../domain/webhook-events.js';
import type { MetadataDatabase, MetadataRepositories } from '../ports/metadata-database.js';
import type { TokenPrincipal } from '../ports/tokens.js';
import type { User } from '../ports/users.js';
import { parseGroupName } from './accounts.js';
import { ownersOf, requireOwner, type CrateOwners } from './ownership.js';

export const GROUP_PREFIX = 'group:';

interface Named {
  users: User[];
  groups: string[];
}

function describe(named: Named): string {
  return [...named.users.map((u) => `user ${u.login}`), ...named.groups.map((g) => `group ${g}`)].join(', ');
}

export class OwnersService {
  constructor(
    private readonly repos: Pick<MetadataDatabase, 'crates' | 'owners' | 'users' | 'transaction'>,
    private readonly policy: AccessPolicy,
    private readonly now: () => number,
  ) {}

  /** Changes the owners and records the webhook event in one transaction. */
  private async changeOwners(
    event: 'owner-add' | 'owner-remove',
    principal: TokenPrincipal,
    crate: string,
    logins: string[],
    change: (owners: MetadataRepositories['owners']) => Promise<void>,
  ): Promise<void> {
    const occurrence = newOccurrence(
      event,
      { crate, actor: principal.login, detail: logins.join(', ') },
      new Date(this.now()).toISOString(),
    );
    await this.repos.transaction(async (repos) => {
      await change(repos.owners);
      await repos.webhookDeliveries.recordEvent(occurrence);
    });
  }

  async list(principal: TokenPrincipal | null, name: string): Promise<CrateOwners> {
    return (await ownersOf(this.repos, this.policy, principal, name)).owners;
  }

  /** Splits `["alice", "group:core"]` into users (who must exist) and group names. */
  private async resolve(logins: string[]): Promise<Named> {
    const named: Named = { users: [], groups: [] };
    for (const login of logins) {
      if (login.startsWith(GROUP_PREFIX)) {
        named.groups.push(parseGroupName(login.slice(GROUP_PREFIX.length)));
        continue;
      }
      const user = await this.repos.users.findUserByLogin(login);
      if (!user) throw notFound('user-not-found', `there is no user \`${login}\``);
      named.users.push(user);
    }
    return named;
  }

  /** Returns the crate's name as published and a message for cargo. */
  async add(principal: TokenPrincipal, name: string, logins: string[]): Promise<{ crate: string; msg: string }> {
    const crate = await requireOwner(this.repos, this.policy, principal, name, 'change-owners');
    const named = await this.resolve(logins);
    await this.changeOwners('owner-add', principal, crate.name, logins, (owners) =>
      owners.addOwners(
        crate.name.toLowerCase(),
        named.users.map((u) => u.id),
        named.groups,
      ),
    );
    const count = named.users.length + named.groups.length;
    return { crate: crate.name, msg: `${describe(named)} added as owner${count === 1 ? '' : 's'} of crate ${crate.name}` };
  }

  async remove(principal: TokenPrincipal, name: string, logins: string[]): Promise<{ crate: string; msg: string }> {
    const { name: stored, owners } = await requireOwner(this.repos, this.policy, principal, name, 'change-owners');
    const named = await this.resolve(logins);
    const strangerUser = named.users.find((u) => !owners.users.some((o) => o.id === u.id));
    const strangerGroup = named.groups.find((g) => !owners.groups.includes(g));
    const stranger = strangerUser?.login ?? (strangerGroup === undefined ? undefined : `${GROUP_PREFIX}${strangerGroup}`);
    if (stranger !== undefined) throw notFound('not-an-owner', `\`${stranger}\` is not an owner of crate \`${stored}\``);
    await this.changeOwners('owner-remove', principal, stored, logins, (owners) =>
      owners.removeOwners(
        stored.toLowerCase(),
        named.users.map((u) => u.id),
        named.groups,
      ),
    );
    const count = named.users.length + named.groups.length;
    return { crate: stored, msg: `${describe(named)} removed as owner${count === 1 ? '' : 's'} of crate ${stored}` };
  }
}
