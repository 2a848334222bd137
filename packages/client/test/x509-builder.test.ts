// The proxy CA's name constraints, checked by OpenSSL itself: leaves for configured hosts verify,
// a leaf the CA would issue for any other name or address is refused.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createCaCertificate, generateKey, issueLeafCertificate, permittedNames } from '../src/x509-builder.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

function verify(caPem: string, leafPem: string): { ok: boolean; output: string } {
  const dir = makeTempDir();
  writeFileSync(join(dir, 'ca.pem'), caPem);
  writeFileSync(join(dir, 'leaf.pem'), leafPem);
  const run = spawnSync('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem')], { encoding: 'utf8' });
  if (run.error) throw run.error;
  return { ok: run.status === 0, output: run.stdout + run.stderr };
}

void test('a CA for DNS and IP hosts issues only for them', async () => {
  const key = generateKey();
  const ca = await createCaCertificate(['registry.example.com', '127.0.0.1'], key, 'test proxy CA');
  assert.deepEqual(permittedNames(ca), { dns: ['registry.example.com'], ip: ['127.0.0.1/32'] });
  const leafKey = generateKey();
  const issue = async (host: string) =>
    (await issueLeafCertificate({ certPem: ca, privateKey: key.privateKey }, host, leafKey.publicKey)).certPem;
  assert.ok(verify(ca, await issue('registry.example.com')).ok);
  assert.ok(verify(ca, await issue('127.0.0.1')).ok);
  for (const foreign of ['example.com', 'evil-registry.example.com', '127.0.0.2', '::1']) {
    const result = verify(ca, await issue(foreign));
    assert.equal(result.ok, false, foreign);
    assert.match(result.output, /subtree violation/, foreign);
  }
});

void test('a CA for DNS hosts only cannot vouch for any IP address', async () => {
  const key = generateKey();
  const ca = await createCaCertificate(['registry.example.com'], key, 'test proxy CA');
  const leafKey = generateKey();
  const issue = async (host: string) =>
    (await issueLeafCertificate({ certPem: ca, privateKey: key.privateKey }, host, leafKey.publicKey)).certPem;
  assert.ok(verify(ca, await issue('registry.example.com')).ok);
  assert.equal(verify(ca, await issue('10.0.0.1')).ok, false);
  assert.equal(verify(ca, await issue('::1')).ok, false);
  await assert.rejects(() => createCaCertificate([], key, 'x'), /at least one host/);
});

// A CA that `proxy init-ca` wrote before the certificates were built with @peculiar/x509 (its
// subject key identifier is the SHA-1 of the whole SubjectPublicKeyInfo). Users trust that ca.pem;
// the proxy must keep issuing leaves that chain to it.
void test('leaves of a CA made by the earlier builder still verify, and its constraints still hold', async () => {
  const fixture = new URL('../../test/fixtures/proxy-ca-asn1/', import.meta.url);
  const ca = readFileSync(new URL('ca.pem', fixture), 'utf8');
  const privateKey = createPrivateKey(readFileSync(new URL('ca-key.pem', fixture), 'utf8'));
  assert.deepEqual(permittedNames(ca), { dns: ['registry.example.com'], ip: ['127.0.0.1/32'] });
  const leafKey = generateKey();
  const issue = async (host: string) => (await issueLeafCertificate({ certPem: ca, privateKey }, host, leafKey.publicKey)).certPem;
  const ok = verify(ca, await issue('registry.example.com'));
  assert.ok(ok.ok, ok.output);
  assert.ok(verify(ca, await issue('127.0.0.1')).ok);
  assert.match(verify(ca, await issue('evil.example.com')).output, /subtree violation/);
});
