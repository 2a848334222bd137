// Asks the OpenID provider again about a person who signed in a device (services/device-flow.ts):
// the provider refresh token kept from the approving sign-in buys current claims, and the same
// rules as a sign-in decide (oidc-users.ts: authorized groups and users). Their provider groups
// are stored again, so access rules follow the provider too. The refusal names the reason.

import { forbidden, RegistryError } from '../domain/errors.js';
import type { MetadataRepositories } from '../ports/metadata-database.js';
import type { User } from '../ports/users.js';
import type { OidcLogin } from './oidc-client.js';
import { groupsOf, OIDC_GROUP_SOURCE, type OidcUsers } from './oidc-users.js';

export function providerRecheck(
  login: Pick<OidcLogin, 'refresh' | 'groupsClaim'>,
  oidcUsers: Pick<OidcUsers, 'assertAuthorized'>,
  repos: Pick<MetadataRepositories, 'users' | 'groups'>,
) {
  return async (user: User, providerRefreshToken: string): Promise<string> => {
    const { identity, refreshToken } = await login.refresh(providerRefreshToken);
    const linked = await repos.users.findIdentityOfUser(user.id);
    if (linked && linked.subject !== identity.subject) {
      throw forbidden('oidc-not-authorized', `the identity provider answered for another person than ${user.login}`);
    }
    const groups = groupsOf(identity, login.groupsClaim);
    try {
      oidcUsers.assertAuthorized(identity, groups);
    } catch (error) {
      if (!(error instanceof RegistryError) || error.kind !== 'forbidden') throw error;
      throw forbidden(
        'oidc-not-authorized',
        `the identity provider no longer puts ${user.login} in an authorized group (groups at the provider: ${groups.length > 0 ? groups.join(', ') : 'none'})`,
      );
    }
    await repos.groups.replaceGroups(user.id, OIDC_GROUP_SOURCE, groups);
    return refreshToken;
  };
}
