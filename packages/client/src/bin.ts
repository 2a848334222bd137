#!/usr/bin/env node
// `cratekeeper-client`: the client toolkit on its own, for a developer laptop or a CI image that
// installs only this package (no database driver, no AWS SDK, no web server). The same commands as
// `cratekeeper credential` and `cratekeeper proxy`, which the server's CLI takes from here.

import { helpExamples } from './help-examples.js';
import { Command } from 'commander';
import { registerClientCommands } from './client-commands.js';

const program = new Command('cratekeeper-client')
  .description("cratekeeper's client toolkit: a cargo credential provider fed by .netrc, and an auth-injecting HTTPS proxy")
  .showHelpAfterError()
  .addHelpText('after', helpExamples('cratekeeper-client proxy --help'));

registerClientCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error('cratekeeper-client:', error);
  process.exit(2);
});
