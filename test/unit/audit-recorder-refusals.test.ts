// Refusals are counted (audit-refusals.ts): a client that repeats a refused request, or varies it,
// writes a bounded number of rows a minute, and every refusal is still counted.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditEvent } from '../../src/ports/audit-log.js';
import type { TokenPrincipal } from '../../src/ports/tokens.js';
import { MAX_REFUSAL_DETAIL, MAX_REFUSALS_A_MINUTE, OVERFLOW_DETAIL } from '../../src/services/audit-refusals.js';
import { recorderAt } from '../support/memory-audit-log.js';

const anonymous = (ip: string) => ({ principal: null, ip, userAgent: 'curl/8' });
const reader = { principal: { tokenId: 7, login: 'eve' } as TokenPrincipal, ip: '192.0.2.7', userAgent: 'cargo/1.95.0' };
const CSRF = 'the form expired or did not come from this registry; start again at /sign-in';
const total = (events: readonly AuditEvent[]) => events.reduce((sum, e) => sum + e.count, 0);

describe('audit recorder: refusals', () => {
  it('writes a refusal at once, and counts its repeats in one event when the minute has ended', async () => {
    let now = Date.parse('2026-12-06T10:00:10.000Z');
    const { log, audit } = recorderAt(() => now);
    const heard: AuditEvent[] = [];
    audit.listen((event) => heard.push({ ...event }));
    for (let i = 0; i < 5000; i++) audit.record('login-failed', anonymous('198.51.100.1'), { detail: CSRF });
    await audit.flush();
    assert.equal(log.written.length, 1, 'the first refusal, written at once');
    assert.deepEqual(
      { ...log.written[0], at: undefined },
      {
        at: undefined,
        action: 'login-failed',
        userLogin: null,
        tokenId: null,
        crate: null,
        version: null,
        clientIp: '198.51.100.1',
        userAgent: 'curl/8',
        detail: CSRF,
        count: 1,
      },
    );
    now += 20_000;
    audit.record('login-failed', anonymous('198.51.100.1'), { detail: CSRF });
    await audit.flush();
    assert.equal(log.written.length, 1, 'repeats in the same minute wait for its end');

    now = Date.parse('2026-12-06T10:01:00.000Z');
    await audit.flush();
    assert.equal(log.written.length, 2);
    assert.equal(log.written[1]!.count, 5000, 'every repeat counted');
    assert.equal(log.written[1]!.detail, CSRF);
    assert.equal(total(log.written), 5001);
    assert.deepEqual(
      heard.map((e) => e.count),
      [1, 5000],
      'listeners hear the first refusal and the count of its repeats',
    );
  });

  it('counts refusals beyond the limit of different ones together, per action', async () => {
    const now = Date.parse('2026-12-06T10:00:00.000Z');
    const { log, audit } = recorderAt(() => now);
    // An attacker varying the path of a page it may not see, and then its address.
    for (let i = 0; i < 3000; i++) audit.record('access-refused', reader, { detail: `page /crates/x${i}: hidden` });
    for (let i = 0; i < 3000; i++) audit.record('login-failed', anonymous(`2001:db8::${i.toString(16)}`), { detail: CSRF });
    await audit.flush();
    assert.equal(log.written.length, MAX_REFUSALS_A_MINUTE, 'only the first different refusals, one row each');
    await audit.stop();
    const overflow = log.written.slice(MAX_REFUSALS_A_MINUTE);
    assert.deepEqual(
      overflow.map((e) => [e.action, e.count, e.detail, e.clientIp, e.tokenId]),
      [
        ['access-refused', 3000 - MAX_REFUSALS_A_MINUTE, OVERFLOW_DETAIL, null, null],
        ['login-failed', 3000, OVERFLOW_DETAIL, null, null],
      ],
    );
    assert.equal(total(log.written), 6000, 'nothing goes uncounted');
  });

  it('starts a new minute with new refusals written one by one, and cuts a long detail', async () => {
    let now = Date.parse('2026-12-06T10:00:59.000Z');
    const { log, audit } = recorderAt(() => now);
    const longPath = `page /${'a'.repeat(5000)}: hidden`;
    audit.record('access-refused', reader, { detail: longPath });
    audit.record('access-refused', reader, { detail: longPath });
    now += 1000;
    audit.record('access-refused', reader, { detail: longPath });
    await audit.flush();
    assert.deepEqual(
      log.written.map((e) => [e.at, e.count]),
      [
        ['2026-12-06T10:00:59.000Z', 1],
        ['2026-12-06T10:00:59.000Z', 1],
        ['2026-12-06T10:01:00.000Z', 1],
      ],
    );
    assert.ok(log.written.every((e) => e.detail === longPath.slice(0, MAX_REFUSAL_DETAIL)));
  });

  it('writes every other action one event each, as before', async () => {
    const { log, audit } = recorderAt(() => Date.parse('2026-12-06T10:00:00.000Z'));
    for (let i = 0; i < 3; i++) audit.record('token-create', reader, { detail: 'ci' });
    await audit.flush();
    assert.deepEqual(
      log.written.map((e) => [e.action, e.count]),
      [
        ['token-create', 1],
        ['token-create', 1],
        ['token-create', 1],
      ],
    );
  });
});
