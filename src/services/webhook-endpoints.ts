// The webhook endpoints in force: those of the configuration file (`[[webhooks]]`, secrets from
// environment variables, read once at start) and those made on the admin pages (in the database,
// secrets sealed under the server's key). Names are unique across both, since deliveries name
// their endpoint. Admins change the stored ones here; the file's are changed in the file.

import type { SealedSecrets } from '../auth/sealed-secrets.js';
import { ConfigError } from '../config/load.js';
import { WEBHOOK_NAME_PATTERN, WEBHOOK_NAME_RULE, type WebhookConfig } from '../config/webhooks-schema.js';
import { parseCratePattern, type CratePattern } from '../domain/crate-pattern.js';
import { conflict, invalid, notFound } from '../domain/errors.js';
import { isWebhookEvent, WEBHOOK_EVENTS } from '../domain/webhook-events.js';
import type { WebhookDeliveries, WebhookEndpointRecord, WebhookEndpoints } from '../ports/webhooks.js';

export interface WebhookEndpoint {
  /** Database id; undefined for an endpoint of the configuration file. */
  id: number | undefined;
  name: string;
  url: string;
  events: string[];
  crates: CratePattern[] | null;
  enabled: boolean;
  source: 'config' | 'admin';
}

export interface ResolvedEndpoint extends WebhookEndpoint {
  secret: string;
}

/** What an admin enters: a secret only when it is set or changed. */
export interface WebhookEndpointForm {
  name: string;
  url: string;
  secret?: string;
  events: string[];
  crates: string[];
  enabled: boolean;
}

const MIN_SECRET_LENGTH = 16;

/** Reads each `[[webhooks]]` endpoint's secret from its variable; a missing one stops the start. */
function configEndpoints(webhooks: readonly WebhookConfig[], env: NodeJS.ProcessEnv): ResolvedEndpoint[] {
  const problems: string[] = [];
  const endpoints = webhooks.map((w, i): ResolvedEndpoint => {
    const secret = env[w.secret_env] ?? '';
    if (secret === '')
      problems.push(
        `webhooks.${i}.secret_env: the environment variable ${w.secret_env} is not set (it holds the secret of webhook "${w.name}")`,
      );
    return {
      id: undefined,
      name: w.name,
      url: w.url,
      events: w.events,
      crates: w.crates && w.crates.length > 0 ? w.crates.map(parseCratePattern) : null,
      enabled: true,
      source: 'config',
      secret,
    };
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return endpoints;
}

function checkedUrl(text: string): string {
  try {
    const url = new URL(text);
    if ((url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password && !url.hash) return url.href;
  } catch {
    // refused below
  }
  throw invalid(
    'invalid-webhook',
    `\`${text.slice(0, 200)}\` is not a webhook URL: use http:// or https://, without user, password or fragment`,
  );
}

export class WebhookEndpointsService {
  private readonly fromConfig: ResolvedEndpoint[];

  constructor(
    private readonly stored: WebhookEndpoints,
    private readonly deliveries: Pick<WebhookDeliveries, 'cancelPending'>,
    private readonly sealed: SealedSecrets,
    webhooks: readonly WebhookConfig[],
    env: NodeJS.ProcessEnv,
    private readonly now: () => number,
  ) {
    this.fromConfig = configEndpoints(webhooks, env);
  }

  /** Every endpoint, the file's first, without secrets. */
  async list(): Promise<WebhookEndpoint[]> {
    const stored = await this.stored.list();
    return [...this.fromConfig.map(({ secret: _, ...endpoint }) => endpoint), ...stored.map((r) => this.toEndpoint(r))];
  }

  /** The enabled endpoints, with their secrets, for sending. */
  async active(): Promise<ResolvedEndpoint[]> {
    const stored = await this.stored.list();
    const opened: ResolvedEndpoint[] = [];
    for (const record of stored) {
      if (!record.enabled) continue;
      const secret = await this.sealed.open(record.sealedSecret);
      // Sealed under another key (a database copied without its server secrets): never sent unsigned.
      if (secret !== undefined) opened.push({ ...this.toEndpoint(record), secret });
    }
    return [...this.fromConfig, ...opened];
  }

  async create(form: WebhookEndpointForm): Promise<WebhookEndpoint> {
    const checked = this.check(form);
    if (form.secret === undefined || form.secret.length < MIN_SECRET_LENGTH)
      throw invalid(
        'invalid-webhook',
        `a webhook needs a secret of at least ${MIN_SECRET_LENGTH} characters, which its receiver also knows`,
      );
    const record = await this.stored.create(
      { ...checked, sealedSecret: await this.sealed.seal(form.secret) },
      new Date(this.now()).toISOString(),
    );
    return this.toEndpoint(record);
  }

  /** An empty or absent secret keeps the current one. */
  async update(id: number, form: WebhookEndpointForm): Promise<void> {
    const checked = this.check(form);
    if (form.secret && form.secret.length < MIN_SECRET_LENGTH)
      throw invalid('invalid-webhook', `a webhook's secret must have at least ${MIN_SECRET_LENGTH} characters`);
    const sealedSecret = form.secret ? await this.sealed.seal(form.secret) : undefined;
    const updated = await this.stored.update(id, { ...checked, sealedSecret }, new Date(this.now()).toISOString());
    if (!updated) throw notFound('webhook-not-found', `no webhook with id ${id} (it may have been deleted)`);
  }

  async setEnabled(id: number, enabled: boolean): Promise<WebhookEndpoint> {
    const record = (await this.stored.list()).find((r) => r.id === id);
    if (!record) throw notFound('webhook-not-found', `no webhook with id ${id} (it may have been deleted)`);
    await this.stored.update(id, { ...record, enabled }, new Date(this.now()).toISOString());
    return this.toEndpoint({ ...record, enabled });
  }

  /** Deletes an endpoint and fails its pending deliveries, so a new endpoint of the same name never inherits them. */
  async remove(id: number): Promise<void> {
    const record = (await this.stored.list()).find((r) => r.id === id);
    if (!record || !(await this.stored.remove(id)))
      throw notFound('webhook-not-found', `no webhook with id ${id} (it may have been deleted)`);
    await this.deliveries.cancelPending(record.name, `the endpoint "${record.name}" was deleted`, new Date(this.now()).toISOString());
  }

  private check(form: WebhookEndpointForm) {
    const name = form.name.trim();
    if (!WEBHOOK_NAME_PATTERN.test(name)) throw invalid('invalid-webhook', `a webhook's name must be ${WEBHOOK_NAME_RULE}`);
    if (this.fromConfig.some((e) => e.name === name))
      throw conflict('webhook-exists', `the configuration file already has a webhook named \`${name}\`: choose another name`);
    const events = [...new Set(form.events)];
    const unknown = events.find((e) => !isWebhookEvent(e));
    if (unknown !== undefined || events.length === 0)
      throw invalid('invalid-webhook', `choose at least one event among ${WEBHOOK_EVENTS.join(', ')}`);
    const crates = form.crates.map((p) => p.trim()).filter((p) => p !== '');
    for (const pattern of crates) parseCratePattern(pattern);
    return { name, url: checkedUrl(form.url.trim()), events, crates: crates.length > 0 ? crates : null, enabled: form.enabled };
  }

  private toEndpoint(record: WebhookEndpointRecord): WebhookEndpoint {
    return {
      id: record.id,
      name: record.name,
      url: record.url,
      events: record.events,
      crates: record.crates?.map(parseCratePattern) ?? null,
      enabled: record.enabled,
      source: 'admin',
    };
  }
}
