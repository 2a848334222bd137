// Helpers shared by the client toolkit's tests: a wrapper script that runs the compiled CLI the way an
// installed `cratekeeper` would (cargo needs one executable path for a credential provider).

import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_PATH } from '../support/registry-server.js';

/** Writes `<dir>/cratekeeper`, an executable that runs the compiled CLI with this node. */
export function writeCliWrapper(dir: string): string {
  const path = join(dir, 'cratekeeper');
  writeFileSync(path, `#!/bin/sh\nexec "${process.execPath}" "${CLI_PATH}" "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}
