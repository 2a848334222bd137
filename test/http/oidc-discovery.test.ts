// `serve` checks the OpenID provider before it listens: an issuer whose discovery document has no
// userinfo endpoint stops the start with a message that says which. An issuer that cannot be
// reached does not (cargo and tokens work without it): the log says which issuer and why, and
// sign-ins answer 503 naming the identity provider until it answers.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { httpRequest } from '../support/http-client.js';
import { startCiIssuer } from '../support/oidc-provider.js';
import { startRegistry } from '../support/registry-server.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

function configWithIssuer(issuer: string): string {
  const file = join(makeTempDir(), 'cratekeeper.toml');
  writeFileSync(file, `[oidc]\nissuer_url = "${issuer}"\nclient_id = "cratekeeper"\nclient_secret = "s3cret"\n`);
  return file;
}

/** A loopback port that nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('serve with [oidc]', () => {
  it('starts when the issuer cannot be reached, logs which and why, and answers sign-ins with 503', async () => {
    const port = await closedPort();
    const issuer = `http://127.0.0.1:${port}`;
    const server = await startRegistry({ args: ['--config', configWithIssuer(issuer)] });
    try {
      const log = server.output();
      assert.ok(
        log.includes(`the OpenID provider ${issuer} did not answer its discovery request (${issuer}/.well-known/openid-configuration)`),
        log,
      );
      assert.match(log, /ECONNREFUSED/);
      const res = await httpRequest(`${server.url}/me`, { headers: { accept: 'text/html' } });
      assert.equal(res.status, 503);
      const page = res.body.toString();
      assert.match(page, /the identity provider is not answering; try again shortly/);
      assert.ok(!page.includes(String(port)), 'the page reveals the provider address');
      // Cargo does not need the provider.
      assert.equal((await httpRequest(`${server.url}/index/config.json`, { headers: { authorization: server.adminToken! } })).status, 200);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  it('refuses to start when the discovery document has no userinfo_endpoint', async () => {
    const issuer = await startCiIssuer(); // a CI issuer: discovery and JWKS, no userinfo
    try {
      await assert.rejects(startRegistry({ args: ['--config', configWithIssuer(issuer.issuer)] }), (error: Error) => {
        assert.ok(
          error.message.includes(
            `oidc.issuer_url: the OpenID provider ${issuer.issuer} has no userinfo_endpoint in its discovery document`,
          ),
          error.message,
        );
        return true;
      });
    } finally {
      await issuer.stop();
    }
  });

  it('reports missing [oidc] settings with their dotted paths', async () => {
    const file = join(makeTempDir(), 'cratekeeper.toml');
    writeFileSync(file, '[oidc]\nissuer_url = "not a url"\n');
    await assert.rejects(startRegistry({ args: ['--config', file] }), (error: Error) => {
      assert.match(error.message, /oidc\.issuer_url: expected an http:\/\/ or https:\/\/ URL/);
      assert.match(error.message, /oidc\.client_id: /);
      assert.match(error.message, /oidc\.client_secret: /);
      return true;
    });
  });
});
