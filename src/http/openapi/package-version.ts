// The installed package's version, for the API description's `info.version`: its package.json,
// four folders up from dist/src/http/openapi/.

import { readFileSync } from 'node:fs';

export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}
