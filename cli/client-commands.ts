// The client toolkit's commands (`cratekeeper credential`, `cratekeeper proxy ...`). They use only
// client/, never the server's code.
//
// cargo starts a credential provider as `<program> --cargo-plugin` and passes the words configured
// after the program (`credential-provider = ["cratekeeper", "credential"]`) inside each JSON request,
// not on the command line; so the root command accepts a hidden --cargo-plugin too, and both forms
// speak the same protocol.

import { Option, type Command } from 'commander';
import { describeClientError, isClientError } from '../client/client-errors.js';
import { serveCredentialProtocol } from '../client/credential-provider.js';
import type { ClientArgs } from '../client/client-settings.js';

interface CredentialOptions {
  netrc?: string;
  authConfig?: string;
  allowInsecureNetrc?: boolean;
  login?: string;
  cargoPlugin?: boolean;
}

async function runProvider(options: ClientArgs): Promise<void> {
  if (process.stdin.isTTY) {
    process.stderr.write(
      'cratekeeper credential: this is a cargo credential provider; cargo runs it and talks JSON on stdin/stdout.\n' +
        'Configure it in $CARGO_HOME/config.toml, e.g. credential-provider = ["/path/to/cratekeeper", "credential"]\n',
    );
  }
  process.exitCode = await serveCredentialProtocol({ input: process.stdin, output: process.stdout, errors: process.stderr }, options, process.env);
}

/** Runs an action and reports the toolkit's own errors as one line, with exit status 2. */
function reported<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (error) {
      if (!isClientError(error)) throw error;
      process.stderr.write(`cratekeeper: ${describeClientError(error)}\n`);
      process.exitCode = 2;
    }
  };
}

export function registerClientCommands(program: Command): void {
  program
    .addOption(new Option('--cargo-plugin', 'run as a cargo credential provider (cargo passes this)').hideHelp())
    .allowExcessArguments()
    .action(
      reported(async (options: { cargoPlugin?: boolean }, command: Command) => {
        if (options.cargoPlugin) return runProvider({});
        if (command.args.length > 0) program.error(`error: unknown command '${command.args[0]}'`);
        program.help({ error: true });
      }),
    );

  program
    .command('credential')
    .description("cargo credential provider: answers cargo's token requests from ~/.netrc and the auth file")
    .option('--netrc <file>', '.netrc to read and write (default: $NETRC, then ~/.netrc)')
    .option('--auth-config <file>', 'auth patterns file (default: $CRATEKEEPER_AUTH_CONFIG, then ~/.config/cratekeeper/auth.toml)')
    .option('--allow-insecure-netrc', 'use a .netrc that group or others can read')
    .option('--login <name>', 'login written into new .netrc entries by cargo login', undefined)
    .option('--cargo-plugin', 'speak the credential provider protocol (cargo passes this)')
    .action(
      reported(async (options: CredentialOptions) => {
        await runProvider({ netrc: options.netrc, authConfig: options.authConfig, allowInsecureNetrc: options.allowInsecureNetrc, login: options.login });
      }),
    );
}
