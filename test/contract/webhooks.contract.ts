// The WebhookEndpoints and WebhookDeliveries contract: endpoint names are unique; a delivery is
// claimed by one caller only, also when several race for it from separate connections (as replicas
// do); a claim that outlived its lease may be taken over, and the old claimant's result is then
// ignored; retries wait for their time. Run against SQLite and PostgreSQL by
// metadata-repositories-*.test.ts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetadataDatabase } from '../../src/ports/metadata-database.js';
import type { WebhookOccurrence } from '../../src/domain/webhook-events.js';
import type { NewWebhookDelivery } from '../../src/ports/webhooks.js';
import { freshPerTest } from './fresh-per-test.js';
import { rejectsWith } from './repository-fixtures.js';

const T0 = '2026-03-01T12:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();

const occurrence = (n: number): WebhookOccurrence => ({
  id: `10000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  event: 'yank',
  crate: `crate-${n}`,
  version: '1.0.0',
  actor: 'alice',
  at: at(n),
  detail: null,
});

const delivery = (n: number): NewWebhookDelivery => ({
  deliveryId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  endpoint: n % 2 ? 'odd' : 'even',
  event: 'publish',
  crate: `crate-${n}`,
  body: `{"n":${n}}`,
  redeliveryOf: null,
});

export function webhooksContract(
  name: string,
  open: () => Promise<MetadataDatabase>,
  openTwin?: () => Promise<[MetadataDatabase, MetadataDatabase]>,
): void {
  describe(`Webhooks contract: ${name}`, () => {
    const { fresh, closeAfterTest } = freshPerTest(open);

    it('stores endpoints with unique names, updates, keeps the secret unless given, and removes', async () => {
      const db = await fresh();
      const input = {
        name: 'chat',
        url: 'https://hooks.example/',
        sealedSecret: 'sealed-1',
        events: ['publish'],
        crates: ['serde*'],
        enabled: true,
      };
      const created = await db.webhookEndpoints.create(input, T0);
      assert.deepEqual([created.name, created.crates, created.enabled, created.sealedSecret], ['chat', ['serde*'], true, 'sealed-1']);
      await rejectsWith(db.webhookEndpoints.create({ ...input, url: 'https://other/' }, T0), 'conflict', 'webhook-exists');
      assert.equal(await db.webhookEndpoints.update(created.id, { ...input, crates: null, enabled: false }, at(1)), true);
      const [updated] = await db.webhookEndpoints.list();
      assert.deepEqual([updated!.crates, updated!.enabled, updated!.sealedSecret, updated!.updatedAt], [null, false, 'sealed-1', at(1)]);
      assert.equal(await db.webhookEndpoints.update(created.id + 100, input, at(1)), false);
      assert.equal(await db.webhookEndpoints.remove(created.id), true);
      assert.equal(await db.webhookEndpoints.remove(created.id), false);
      assert.deepEqual(await db.webhookEndpoints.list(), []);
    });

    it('claims a due delivery once; a retry waits for its time; a lost claim cannot record', async () => {
      const db = await fresh();
      await db.webhookDeliveries.enqueue([delivery(1)], T0);
      const [claimed] = await db.webhookDeliveries.claimDue(T0, at(30), 'first', 10);
      assert.equal(claimed!.deliveryId, delivery(1).deliveryId);
      assert.deepEqual(await db.webhookDeliveries.claimDue(at(10), at(40), 'second', 10), [], 'claimed while the lease lasts');
      // The lease ran out (the first claimant died): another takes it, and the first's result is ignored.
      const [taken] = await db.webhookDeliveries.claimDue(at(31), at(60), 'second', 10);
      assert.equal(taken!.id, claimed!.id);
      const failed = {
        status: 'pending' as const,
        attempts: 1,
        lastStatus: 500,
        lastError: 'answered 500',
        lastAttemptAt: at(31),
        nextAttemptAt: at(90),
      };
      assert.equal(await db.webhookDeliveries.finish(claimed!.id, 'first', { ...failed, status: 'delivered' }), false);
      assert.equal(await db.webhookDeliveries.finish(claimed!.id, 'second', failed), true);
      assert.deepEqual(await db.webhookDeliveries.claimDue(at(89), at(120), 'third', 10), [], 'not before its next attempt');
      const [retry] = await db.webhookDeliveries.claimDue(at(90), at(120), 'third', 10);
      assert.deepEqual([retry!.attempts, retry!.lastStatus, retry!.status], [1, 500, 'pending']);
      await db.webhookDeliveries.finish(retry!.id, 'third', {
        ...failed,
        status: 'delivered',
        attempts: 2,
        lastStatus: 200,
        lastError: null,
        nextAttemptAt: null,
      });
      assert.deepEqual(await db.webhookDeliveries.claimDue(at(1000), at(2000), 'fourth', 10), [], 'a delivered one is never claimed again');
      const { total, deliveries } = await db.webhookDeliveries.list({ limit: 10, offset: 0 });
      assert.deepEqual([total, deliveries[0]!.status, deliveries[0]!.attempts], [1, 'delivered', 2]);
    });

    it('lists newest first, by endpoint and status', async () => {
      const db = await fresh();
      const queued = await db.webhookDeliveries.enqueue([1, 2, 3, 4, 5].map(delivery), T0);
      assert.deepEqual(
        queued.map((d) => [d.crate, d.status, d.attempts, d.nextAttemptAt]),
        [1, 2, 3, 4, 5].map((n) => [`crate-${n}`, 'pending', 0, T0]),
      );
      const odd = await db.webhookDeliveries.list({ endpoint: 'odd', limit: 2, offset: 0 });
      assert.deepEqual([odd.total, odd.deliveries.map((d) => d.crate)], [3, ['crate-5', 'crate-3']]);
      const pending = await db.webhookDeliveries.list({ status: 'pending', limit: 10, offset: 4 });
      assert.deepEqual([pending.total, pending.deliveries.map((d) => d.crate)], [5, ['crate-1']]);
      assert.equal((await db.webhookDeliveries.get(odd.deliveries[0]!.id))!.body, '{"n":5}');
    });

    it('gives each delivery to one of several connections claiming at once', async () => {
      const [one, two] = openTwin ? await openTwin() : [await fresh(), await fresh()];
      if (openTwin) closeAfterTest(one, two);
      const count = 40;
      await one.webhookDeliveries.enqueue(
        Array.from({ length: count }, (_, i) => delivery(i)),
        T0,
      );
      const claims = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 ? two : one).webhookDeliveries.claimDue(at(1), at(60), `claimant-${i}`, count)),
      );
      const ids = claims.flat().map((d) => d.id);
      assert.equal(ids.length, count, `claimed ${ids.length} times for ${count} deliveries`);
      assert.equal(new Set(ids).size, count);
    });

    it('records events with the change: a rolled-back unit of work leaves none, a committed one keeps it', async () => {
      const db = await fresh();
      await assert.rejects(
        db.transaction(async (repos) => {
          await repos.webhookDeliveries.recordEvent(occurrence(1));
          throw new Error('the change failed');
        }),
        /the change failed/,
      );
      await db.transaction((repos) => repos.webhookDeliveries.recordEvent(occurrence(2)));
      assert.deepEqual(await db.webhookDeliveries.takeEvents(10), [occurrence(2)]);
      assert.deepEqual(await db.webhookDeliveries.takeEvents(10), [], 'a taken event is gone');
    });

    it('gives each recorded event to one of several connections taking at once, oldest first', async () => {
      const [one, two] = openTwin ? await openTwin() : [await fresh(), await fresh()];
      if (openTwin) closeAfterTest(one, two);
      const count = 30;
      for (let n = 0; n < count; n++) await one.webhookDeliveries.recordEvent(occurrence(n));
      // One statement each, so SQLite's two connections in this one thread can interleave them
      // (a unit of work on one would wait for the other's in the same thread).
      const takes = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? two : one).webhookDeliveries.takeEvents(7)));
      for (const take of takes) {
        const ns = take.map((o) => Number(o.crate!.slice('crate-'.length)));
        assert.deepEqual(
          ns,
          [...ns].sort((a, b) => a - b),
          'each take is oldest first',
        );
      }
      const ids = takes.flat().map((o) => o.id);
      assert.equal(ids.length, count, `taken ${ids.length} times for ${count} events`);
      assert.equal(new Set(ids).size, count);
    });

    it("fails an endpoint's pending deliveries with a reason, and leaves the others", async () => {
      const db = await fresh();
      await db.webhookDeliveries.enqueue([delivery(1), delivery(2), delivery(3)], T0);
      assert.equal(await db.webhookDeliveries.cancelPending('odd', 'the endpoint "odd" was deleted', at(5)), 2);
      const odd = await db.webhookDeliveries.list({ endpoint: 'odd', limit: 10, offset: 0 });
      assert.deepEqual(
        odd.deliveries.map((d) => [d.status, d.lastError, d.nextAttemptAt]),
        [
          ['failed', 'the endpoint "odd" was deleted', null],
          ['failed', 'the endpoint "odd" was deleted', null],
        ],
      );
      assert.equal((await db.webhookDeliveries.claimDue(at(10), at(60), 'c', 10)).map((d) => d.endpoint).join(), 'even');
    });
  });
}
