// The dependency-confusion guard fails closed. A new local crate may not take a name that an
// upstream has even when that upstream's allow or deny list keeps it from being served today (a later
// change to the lists would make two crates share one name), nor, on an `offline = true` upstream, a
// name that is not cached (it cannot be checked), unless that upstream's `local_names` covers it.
// Refusals keep cargo's error shape, say what to do, and change nothing stored. The upstreams are
// static sparse indexes on a local HTTP server; the registry runs in process.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { indexPathOf, normalizeCrateName } from '../../src/domain/crate-name.js';
import { publishBodyFor } from '../support/crate-fixture.js';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';

/** Crates of each static index on the server, by its path prefix. */
const INDEXES: Record<string, string[]> = { online: ['bitflags', 'evil_crate', 'serde'], vault: ['smallvec'] };

describe('dependency confusion: names an upstream may serve are not free', () => {
  let upstream: Server;
  let r: TestRegistry;
  const requested: string[] = [];

  before(async () => {
    const files = new Map<string, string>();
    for (const [prefix, names] of Object.entries(INDEXES)) {
      files.set(`/${prefix}/index/config.json`, '{"dl":"http://127.0.0.1:1/crates"}');
      for (const name of names) {
        files.set(
          `/${prefix}/index/${indexPathOf(name)}`,
          `{"name":"${name}","vers":"1.0.0","deps":[],"cksum":"${'0'.repeat(64)}","features":{},"yanked":false}\n`,
        );
      }
    }
    upstream = createServer((req, res) => {
      requested.push(req.url!);
      const body = files.get(req.url!);
      res.writeHead(body === undefined ? 404 : 200).end(body ?? '');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    r = await startTestRegistry(
      {},
      `
[[upstreams]]
name = "partial"
index_url = "${base}/online/index/"
allow = ["serde*", "acme-*"]
deny = ["evil*"]

[[upstreams]]
name = "vault"
index_url = "${base}/vault/index/"
offline = true
local_names = ["acme-*", "bitflags", "evil-crate"]
`,
    );
  });

  after(async () => {
    await r?.close();
    upstream?.close();
  });

  const publish = async (name: string) =>
    r.request({ method: 'PUT', url: '/api/v1/crates/new', token: r.adminToken, payload: await publishBodyFor(name, '0.1.0') });

  /** Publishes `name`, expects 409 with a detail matching `detail` in cargo's shape, and nothing stored. */
  async function refused(name: string, detail: RegExp): Promise<string> {
    const before = await r.snapshot(name);
    const res = await publish(name);
    assert.equal(res.statusCode, 409, res.body);
    const body = JSON.parse(res.body) as { errors: Array<{ detail: string }> };
    assert.equal(body.errors.length, 1, res.body);
    assert.match(body.errors[0]!.detail, detail);
    assert.equal(await r.snapshot(name), before, 'a refused publish changed what is stored');
    assert.equal(await r.registry.metadata.crates.findCrateName(normalizeCrateName(name)), undefined);
    return body.errors[0]!.detail;
  }

  it("a name the allow-list leaves out is still the upstream's", async () => {
    // `partial` does not serve `bitflags` (its allow-list leaves it out), but it has it.
    const detail = await refused('bitflags', /the name `bitflags` belongs to a crate on upstream `partial`/);
    assert.match(detail, /dependency confusion/);
    assert.match(detail, /allow and deny lists do not serve it now/);
    assert.match(detail, /local_names/);
    assert.ok(requested.includes(`/online/index/${indexPathOf('bitflags')}`), 'the guard asked the upstream');
  });

  it("a name the deny-list names is still the upstream's, in any -/_ spelling", async () => {
    await refused('evil-crate', /the name `evil-crate` belongs to a crate on upstream `partial`.*local_names/s);
  });

  it('on an offline upstream, a name that is not cached is not free: the refusal names the upstream and local_names', async () => {
    const detail = await refused('smallvec', /upstream `vault` is offline/);
    assert.match(detail, /cannot tell whether it has a crate named `smallvec`/);
    assert.match(detail, /local_names/);
    assert.match(detail, /`[a-z]+-\*`/, "suggests a prefix pattern for the company's own crates");
    // Any name at all, not only the ones the upstream really has: it cannot be asked.
    await refused('brand-new-name', /upstream `vault` is offline.*local_names/s);
    assert.ok(!requested.some((p) => p.startsWith('/vault/')), 'the offline upstream was contacted');
  });

  it('a name local_names covers on the offline upstream, and that the online one lacks, is published', async () => {
    const res = await publish('acme-widget');
    assert.equal(res.statusCode, 200, res.body);
    assert.ok(await r.registry.metadata.crates.findCrateName(normalizeCrateName('acme-widget')));
  });
});
