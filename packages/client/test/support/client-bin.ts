// Where the compiled `cratekeeper-client` executable is, for tests that run it as cargo would.

import { fileURLToPath } from 'node:url';

export const CLIENT_BIN = fileURLToPath(new URL('../../src/bin.js', import.meta.url));
