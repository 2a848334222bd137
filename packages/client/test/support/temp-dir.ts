// Temporary folders for tests, removed when the process exits. (A copy of the server's test/support/temp-dir.ts:
// the client package builds and tests without the server.)

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const created: string[] = [];
process.on('exit', () => {
  if (process.env.KEEP_TEST_DIRS) return;
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

export function makeTempDir(prefix = 'cratekeeper-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}
