// Pages whose rendering grows with what a publisher wrote are rendered on the CPU pool's worker
// threads, so the event loop keeps answering meanwhile. Through a real socket: a /healthz request
// sent once such a render has begun is answered before the page that started it. (A render on the
// event loop would hold the /healthz request until it ends, and the page, written in the same turn
// of the loop, would arrive first.) Index files are stored rendered (sql-index-files.ts). Also: a
// README nested beyond the limit is shown as plain text with a note, not an error, and only its
// first view costs a render.

import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { MAX_README_NESTING } from '../../src/workers/readme-markdown.js';
import { newVersion } from '../contract/repository-fixtures.js';
import { makeCrate } from '../support/crate-fixture.js';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';
import { signInWithToken } from '../support/web-session.js';

// Hang detectors only: no test asserts a duration.
const HANG = { timeout: 120_000 };

describe('rendering off the event loop', () => {
  let r: TestRegistry;
  let base: string;
  let cookie: string;
  let publisherId: number;

  /** Stores a version and its .crate directly, as an older release would have left it (no publish checks). */
  async function storeVersion(name: string, version: string, readme?: string): Promise<void> {
    const row = newVersion(name, version, publisherId);
    const files = readme === undefined ? [] : [{ name: `${name}-${version}/README.md`, body: readme }];
    await r.registry.blobs.put(row.blobKey, await makeCrate(name, version, files));
    await r.registry.metadata.crates.publishVersion(row);
  }

  /** A hook, installed by `install`, that resolves `reached` when the render is about to begin; and its removal. */
  function once(install: (signal: () => void) => () => void): { reached: Promise<void>; restore: () => void } {
    let signal!: () => void;
    const reached = new Promise<void>((resolve) => (signal = resolve));
    const restore = install(signal);
    return { reached, restore };
  }

  /** Which of the two requests was answered first, when the second starts at `reached`. */
  async function firstAnswered(slow: () => Promise<Response>, reached: Promise<void>): Promise<{ order: string[]; slowBody: string }> {
    const order: string[] = [];
    const slowDone = slow().then(async (res) => {
      const body = await res.text();
      order.push('slow');
      assert.equal(res.status, 200, body.slice(0, 300));
      return body;
    });
    await reached;
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    order.push('healthz');
    return { order, slowBody: await slowDone };
  }

  before(async () => {
    r = await startTestRegistry({ 'cpu.threads': '1' });
    await r.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(r.app.server.address() as AddressInfo).port}`;
    cookie = (await signInWithToken(r, r.adminToken)).cookie;
    publisherId = (await r.registry.metadata.users.createUser('publisher', false)).id;
  });
  after(() => r.close());

  it('shows a README nested beyond the limit as plain text with a note; the pool renders it once', HANG, async () => {
    await storeVersion('deep-readme', '1.0.0', '<div>'.repeat(200_000) + '\n\n# Title');
    const before = r.registry.cpu.completed;
    const page = await fetch(`${base}/crates/deep-readme`, { headers: { cookie } });
    const body = await page.text();
    assert.equal(page.status, 200);
    assert.ok(
      body.includes(
        `<p class="readme-note"><em>This README nests HTML elements more than ${MAX_README_NESTING} levels deep, which this registry does not render; it is shown as plain text.</em></p><pre class="readme-text">&lt;div&gt;`,
      ),
      'the note, then the README as text',
    );
    assert.ok(!body.includes('<div><div><div>'), 'no nested elements reach the page');
    const rendered = r.registry.cpu.completed;
    assert.ok(rendered > before, 'the README was rendered on the pool');
    assert.equal((await fetch(`${base}/crates/deep-readme`, { headers: { cookie } })).status, 200);
    assert.equal(r.registry.cpu.completed, rendered, 'the second view is answered from the cache');
  });

  it('answers /healthz while a README page renders', HANG, async () => {
    // Slow but within every limit, also on a loaded machine: a table of 10,000 rows renders in a few
    // hundred milliseconds, far from the pool's 5 s limit (30,000 rows ran out of it at a load of 20),
    // and far longer than /healthz takes.
    await storeVersion('slow-readme', '1.0.0', '| a | b |\n|---|---|\n' + '| cell | `code` |\n'.repeat(10_000));
    const blobs = r.registry.blobs;
    const { reached, restore } = once((signal) => {
      const open = blobs.open.bind(blobs);
      blobs.open = async (key) => {
        const opened = await open(key);
        if (!opened || !key.startsWith('crates/slow-readme/')) return opened;
        // The reader lets the stream go once it has walked the whole archive: the render comes next,
        // with no I/O between. (The file's own stream is no signal: it ends, and destroys itself,
        // while gunzip and tar still work through its bytes.)
        const stream = new PassThrough({ autoDestroy: false });
        opened.stream.pipe(stream);
        const destroy = stream.destroy.bind(stream);
        stream.destroy = (error?: Error) => {
          signal();
          return destroy(error);
        };
        return { ...opened, stream };
      };
      return () => {
        blobs.open = open;
      };
    });
    try {
      const { order, slowBody } = await firstAnswered(() => fetch(`${base}/crates/slow-readme`, { headers: { cookie } }), reached);
      assert.ok(slowBody.includes('<td><code>code</code></td>'), 'the README was rendered');
      assert.deepEqual(order, ['healthz', 'slow']);
    } finally {
      restore();
    }
  });
});
