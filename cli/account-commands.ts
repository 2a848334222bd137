// `cratekeeper user disable|enable|signout <name>`: an administrator's levers over an account
// (issue 16 and 17). Disabling refuses the account's tokens, sign-ins and device refreshes;
// signing out ends every device session of terminal sign-in. Each is audited as from the CLI.

import type { Command } from 'commander';
import { helpExamples } from '@cratekeeper/client/commands';
import type { CommonOptions } from './server-actions.js';

const actions = () => import('./server-actions.js');

const CLI_SOURCE = { principal: null, ip: null, userAgent: 'cratekeeper cli' };

export function registerAccountCommands(user: Command, withCommonOptions: (command: Command) => Command): void {
  for (const disabled of [true, false]) {
    const verb = disabled ? 'disable' : 'enable';
    withCommonOptions(
      user
        .command(`${verb} <name>`)
        .description(
          disabled ? "disable an account: its tokens, sign-ins and devices' refreshes are refused" : 'enable a disabled account',
        ),
    )
      .addHelpText('after', helpExamples(`cratekeeper user ${verb} alice --data-dir /var/lib/cratekeeper`))
      .action(async (name: string, options: CommonOptions) =>
        (await actions()).withRegistry(options, async (registry) => {
          const found = await registry.accounts.requireUser(name);
          const changed = await registry.metadata.users.setDisabled(found.id, disabled);
          registry.audit.record(disabled ? 'user-disable' : 'user-enable', CLI_SOURCE, { login: found.login, detail: 'cli' });
          console.log(changed ? `${verb}d ${found.login}` : `${found.login} was ${verb}d already`);
        }),
      );
  }
  withCommonOptions(user.command('signout <name>').description('sign every device of a user out (terminal sign-ins)'))
    .addHelpText('after', helpExamples('cratekeeper user signout alice --config /etc/cratekeeper.toml'))
    .action(async (name: string, options: CommonOptions) =>
      (await actions()).withRegistry(options, async (registry) => {
        const found = await registry.accounts.requireUser(name);
        const count = await registry.metadata.deviceFlow.revokeUserSessions(
          found.id,
          new Date().toISOString(),
          'signed out by an administrator',
        );
        registry.audit.record('device-signout-all', CLI_SOURCE, { login: found.login, detail: `${count} device(s), cli` });
        console.log(`signed out ${count} device(s) of ${found.login}`);
      }),
    );
}
