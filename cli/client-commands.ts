// The client toolkit's commands (`cratekeeper credential`, `cratekeeper proxy ...`). They use only
// client/, never the server's code.

import type { Command } from 'commander';

export function registerClientCommands(_program: Command): void {}
