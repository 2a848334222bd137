// Webhook settings and the pure rules of deliveries: a bad `[[webhooks]]` entry (URL, event, name,
// crate pattern) or a secret variable that is not set stops the start with the setting's path; the
// crate filter decides who hears of a crate; the signature covers the timestamp and the exact body.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import type { SealedSecrets } from '../../src/auth/sealed-secrets.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { parseCratePattern } from '../../src/domain/crate-pattern.js';
import { endpointWants, webhookBody, webhookSignature, type WebhookOccurrence } from '../../src/domain/webhook-events.js';
import type { WebhookEndpoints } from '../../src/ports/webhooks.js';
import { WebhookEndpointsService } from '../../src/services/webhook-endpoints.js';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  return assert.fail('the configuration was accepted');
}

const loadToml = (text: string) => {
  const file = join(makeTempDir(), 'cratekeeper.toml');
  writeFileSync(file, text);
  return loadConfig({ file });
};

const hook = (fields: string) =>
  `[[webhooks]]\nname = "chat"\nurl = "https://hooks.example/in"\nsecret_env = "CHAT_SECRET"\nevents = ["publish"]\n${fields}`;

const occurrence = (crate: string | null, event: WebhookOccurrence['event'] = 'publish'): WebhookOccurrence => ({
  id: '00000000-0000-4000-8000-000000000000',
  event,
  crate,
  version: '1.0.0',
  actor: 'alice',
  at: '2026-01-01T00:00:00.000Z',
  detail: 'new crate',
});

describe('webhook configuration', () => {
  it('reads an endpoint from [[webhooks]]', () => {
    const [w] = loadToml(hook('crates = ["serde*", "tokio"]\n')).webhooks;
    assert.deepEqual(w, {
      name: 'chat',
      url: 'https://hooks.example/in',
      secret_env: 'CHAT_SECRET',
      events: ['publish'],
      crates: ['serde*', 'tokio'],
    });
  });

  it('refuses a bad URL, an unknown event, a bad crate pattern and a secret written in the file', () => {
    assert.match(
      problemsOf(() => loadToml(hook('').replace('https://hooks.example/in', 'ftp://x'))).join('\n'),
      /webhooks\.0\.url: expected an http/,
    );
    assert.match(
      problemsOf(() => loadToml(hook('').replace('["publish"]', '["deploy"]'))).join('\n'),
      /webhooks\.0\.events\.0: expected events among publish/,
    );
    assert.match(problemsOf(() => loadToml(hook('crates = ["a*b"]\n'))).join('\n'), /webhooks\.0\.crates\.0/);
    assert.match(problemsOf(() => loadToml(hook('secret = "hunter2"\n'))).join('\n'), /webhooks\.0.*secret/);
    assert.match(
      problemsOf(() => loadToml(`${hook('')}\n${hook('')}`)).join('\n'),
      /webhooks\.1\.name: another webhook is also named "chat"/,
    );
  });

  it('stops the start when the secret variable is not set, naming the setting and the variable', () => {
    const config = loadToml(hook(''));
    const stored = { list: async () => [] } as unknown as WebhookEndpoints;
    const sealed = {} as SealedSecrets;
    const deliveries = { cancelPending: async () => 0 };
    const problems = problemsOf(() => new WebhookEndpointsService(stored, deliveries, sealed, config.webhooks, {}, Date.now));
    assert.deepEqual(problems, [
      'webhooks.0.secret_env: the environment variable CHAT_SECRET is not set (it holds the secret of webhook "chat")',
    ]);
    assert.doesNotThrow(
      () => new WebhookEndpointsService(stored, deliveries, sealed, config.webhooks, { CHAT_SECRET: 'x'.repeat(32) }, Date.now),
    );
  });
});

describe('webhook deliveries', () => {
  it('sends a crate only to endpoints whose patterns cover it, and events only to endpoints that chose them', () => {
    const everything = { events: ['publish'], crates: null };
    const serdeOnly = { events: ['publish'], crates: [parseCratePattern('serde*')] };
    assert.equal(endpointWants(everything, occurrence('tokio')), true);
    assert.equal(endpointWants(serdeOnly, occurrence('serde_json')), true);
    assert.equal(endpointWants(serdeOnly, occurrence('tokio')), false);
    assert.equal(endpointWants(serdeOnly, occurrence('tokio', 'yank')), false);
    assert.equal(endpointWants({ events: ['yank'], crates: null }, occurrence('tokio')), false);
  });

  it('signs `<t>.<body>` with HMAC-SHA256, so a changed timestamp or body does not verify', () => {
    const body = webhookBody(occurrence('serde'), 'https://registry.example');
    const signature = webhookSignature('s3cret', 1_700_000_000, body);
    const expected = createHmac('sha256', 's3cret').update(`1700000000.${body}`).digest('hex');
    assert.equal(signature, `t=1700000000,sha256=${expected}`);
    assert.notEqual(webhookSignature('s3cret', 1_700_000_001, body), signature);
    assert.notEqual(webhookSignature('s3cret', 1_700_000_000, body.replace('serde', 'serdf')), signature);
  });

  it('puts no detail of a policy event in the body (it may name other crates)', () => {
    const body = JSON.parse(webhookBody({ ...occurrence('app', 'policy-refused'), detail: 'depends on secret-thing' }, 'https://r'));
    assert.equal(body.detail, null);
    assert.equal(JSON.parse(webhookBody(occurrence('app'), 'https://r')).detail, 'new crate');
  });
});
