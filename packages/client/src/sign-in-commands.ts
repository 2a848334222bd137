// `login` and `logout` on the command line (`cratekeeper-client login --registry NAME`, and the same
// through the server's `cratekeeper`): sign this terminal in to a registry with the device flow, or
// sign it out. cargo reaches the same code through the credential provider's login/logout actions.

import { helpExamples } from './help-examples.js';
import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveRegistry } from './registry-lookup.js';
import { sessionContext } from './session-credentials.js';
import { openSessionStore } from './session-store-choice.js';
import { sessionKey } from './session-store.js';
import { openInBrowser, signIn, signOut } from './sign-in.js';

interface LoginOptions {
  registry: string;
  open?: boolean;
  scope?: string;
  deviceName?: string;
}

type Reported = <A extends unknown[]>(action: (...args: A) => Promise<void>) => (...args: A) => Promise<void>;

export function registerSignInCommands(program: Command, reported: Reported): void {
  program
    .command('login')
    .description('sign this terminal in to a registry (you approve a code in the browser); cargo then gets short-lived tokens')
    .requiredOption('--registry <name-or-url>', "the registry's name in cargo's configuration, or its index URL")
    .option('--open', 'also open the approval page in a browser on this machine')
    .option('--scope <scopes>', 'space-separated token scopes to ask for (default: what a normal token of yours has)')
    .option('--device-name <name>', 'how the approval page and "My tokens" name this device (default: user@hostname)')
    .addHelpText('after', helpExamples(`${program.name()} login --registry mycompany`, 'cargo login --registry mycompany'))
    .action(
      reported(async (options: LoginOptions) => {
        const env = process.env;
        const key = sessionKey(resolveRegistry(options.registry, env));
        const tell = (line: string) => process.stderr.write(`${line}\n`);
        await signIn(
          key,
          sessionContext(openSessionStore(env), env),
          {
            tell,
            sleep: (seconds) => sleep(seconds * 1000),
            now: () => Math.floor(Date.now() / 1000),
            open: options.open ? (url) => openInBrowser(url) : undefined,
          },
          { scope: options.scope, deviceName: options.deviceName, retryHint: `${program.name()} login --registry ${options.registry}` },
        );
      }),
    );

  program
    .command('logout')
    .description("sign this terminal out of a registry: the server revokes the device's session and it is deleted here")
    .requiredOption('--registry <name-or-url>', "the registry's name in cargo's configuration, or its index URL")
    .addHelpText('after', helpExamples(`${program.name()} logout --registry mycompany`))
    .action(
      reported(async (options: { registry: string }) => {
        const env = process.env;
        const key = sessionKey(resolveRegistry(options.registry, env));
        const result = await signOut(key, sessionContext(openSessionStore(env), env));
        if (!result.found) {
          process.stderr.write(`not signed in to ${key}\n`);
          return;
        }
        if (result.warning) process.stderr.write(`warning: ${result.warning}\n`);
        process.stderr.write(`Signed out of ${new URL(key).origin}.\n`);
      }),
    );
}
