// `cratekeeper-client docs upload CRATE@VERSION DIR` against a real `cratekeeper serve`: it packs
// the folder, finds the registry's API through config.json and sends the docs with the registry
// token; a folder holding a symlink is refused by the server and the docs already there stay.

import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { runProgram } from '@cratekeeper/test-support/run-program';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { publishBodyFor } from '../support/crate-fixture.js';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';

const CLIENT_BIN = fileURLToPath(new URL('../../../node_modules/@cratekeeper/client/dist/src/bin.js', import.meta.url));

function docsFolder(marker: string): string {
  const dir = makeTempDir('cratekeeper-target-doc-');
  mkdirSync(join(dir, 'widget'));
  writeFileSync(join(dir, 'widget', 'index.html'), `<p>${marker}</p>`);
  return dir;
}

describe('cratekeeper-client docs upload', () => {
  let server: RunningRegistry;
  let token: string;
  const upload = (dir: string) =>
    runProgram(process.execPath, [CLIENT_BIN, 'docs', 'upload', 'widget@1.0.0', dir, '--registry', `sparse+${server.url}/index/`], {
      env: { PATH: process.env.PATH, HOME: makeTempDir(), CARGO_REGISTRY_TOKEN: token },
    });

  async function servedPage(): Promise<string> {
    const entry = await fetch(`${server.url}/docs/widget/1.0.0/widget/index.html`, {
      headers: { authorization: token },
      redirect: 'manual',
    });
    assert.equal(entry.status, 303);
    return (await fetch(`${server.url}${entry.headers.get('location')}`)).text();
  }

  before(async () => {
    server = await startRegistry();
    token = server.adminToken!;
    const published = await fetch(`${server.url}/api/v1/crates/new`, {
      method: 'PUT',
      headers: { authorization: token },
      body: new Uint8Array(await publishBodyFor('widget', '1.0.0')),
    });
    assert.equal(published.status, 200, await published.text());
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it('uploads a folder, and the registry serves it', async () => {
    const result = await upload(docsFolder('uploaded from CI'));
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `Uploaded the docs of widget@1.0.0: ${server.url}/docs/widget/1.0.0/\n`);
    assert.match(await servedPage(), /uploaded from CI/);
  });

  it('is refused for a folder with a symlink, and the docs stay as they were', async () => {
    const dir = docsFolder('with a link');
    symlinkSync('/etc/passwd', join(dir, 'widget', 'passwd.html'));
    const result = await upload(dir);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /refused the docs \(HTTP 400\): the docs archive contains a link: `\.\/widget\/passwd\.html`/);
    assert.match(await servedPage(), /uploaded from CI/);
  });
});
