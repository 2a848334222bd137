// What administrators change in the supply-chain policy, from the CLI, the admin API and the admin
// page alike: per-source settings (set, unset), holds (a crate or one version, indefinitely) and
// early releases from quarantine (one version, with a reason and an expiry). Each change is checked,
// stored (with a `policy` change that every replica follows), applied to this process at once, and
// audited as `policy-change`.

import { invalid, notFound } from '../domain/errors.js';
import type { PolicyException, PolicySourceKey, PolicyStore } from '../ports/policy-store.js';
import type { AuditRecorder, AuditSource } from '../services/audit-recorder.js';
import {
  formatPolicySetting,
  isPolicySettingKey,
  parsePolicySetting,
  POLICY_SETTING_KEYS,
  sourceKeyOf,
  type SourcePolicy,
} from './policy-settings.js';
import type { PolicyState } from './policy-state.js';
import type { PolicySource } from './version-rule.js';

/** Who asks: the audit log's source, and the login the stored rows name (null: the command line). */
export interface PolicyActor {
  audit: AuditSource;
  login: string | null;
}

/** Early releases expire after this long unless told otherwise. */
export const DEFAULT_RELEASE_MS = 7 * 86_400_000;
const MAX_RELEASE_MS = 365 * 86_400_000;

export interface SourceSettings {
  source: string;
  /** In force: the database's values over the configuration's. */
  effective: Record<string, string>;
  /** Set in the database (what `policy unset` removes). */
  stored: Record<string, string>;
}

const formatAll = (settings: SourcePolicy): Record<string, string> =>
  Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, formatPolicySetting(k as keyof SourcePolicy, v)]));

/** `serde` or `serde@1.0.1`: the lower-case name and the version (null: every version). */
export function parseCrateSpec(spec: string): { crate: string; version: string | null } {
  const at = spec.indexOf('@');
  const crate = (at === -1 ? spec : spec.slice(0, at)).trim().toLowerCase();
  const version = at === -1 ? null : spec.slice(at + 1).trim();
  if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(crate) || (version !== null && !/^[0-9A-Za-z.+-]{1,100}$/.test(version))) {
    throw invalid('invalid-policy-exception', `expected a crate name or crate@version, such as serde or serde@1.0.1 (got \`${spec}\`)`);
  }
  return { crate, version };
}

export class PolicyAdmin {
  constructor(
    private readonly store: PolicyStore,
    private readonly state: PolicyState,
    private readonly audit: AuditRecorder,
    /** The upstreams configured here: a source is `local` or one of them. */
    private readonly upstreams: readonly string[],
    private readonly now: () => number,
  ) {}

  /** `local`, or a configured upstream's name. */
  source(name: string): PolicySource {
    if (name === 'local') return { kind: 'local' };
    if (this.upstreams.includes(name)) return { kind: 'upstream', upstream: name };
    const known = ['local', ...this.upstreams].join(', ');
    throw invalid('invalid-policy-setting', `no policy source \`${name}\`: a source is \`local\` or a configured upstream (${known})`);
  }

  settings(): SourceSettings[] {
    return ['local', ...this.upstreams].map((name) => {
      const source = this.source(name);
      return { source: name, effective: formatAll(this.state.get(source)), stored: formatAll(this.state.storedFor(sourceKeyOf(source))) };
    });
  }

  async set(actor: PolicyActor, sourceName: string, key: string, text: string): Promise<string> {
    const source = this.source(sourceName);
    const value = parsePolicySetting(key, text);
    if (!isPolicySettingKey(key)) throw new Error('unreachable');
    await this.store.setSetting(sourceKeyOf(source), key, JSON.stringify(value), actor.login, new Date(this.now()).toISOString());
    await this.state.reloadSettings();
    const shown = formatPolicySetting(key, value);
    this.audit.record('policy-change', actor.audit, { detail: `set ${sourceName} ${key} = ${shown}` });
    return shown;
  }

  async unset(actor: PolicyActor, sourceName: string, key: string): Promise<boolean> {
    const source = this.source(sourceName);
    if (!isPolicySettingKey(key)) {
      throw invalid('invalid-policy-setting', `unknown policy setting \`${key}\`; the settings are ${POLICY_SETTING_KEYS.join(', ')}`);
    }
    const removed = await this.store.unsetSetting(sourceKeyOf(source), key);
    await this.state.reloadSettings();
    if (removed) this.audit.record('policy-change', actor.audit, { detail: `unset ${sourceName} ${key}` });
    return removed;
  }

  exceptions(): PolicyException[] {
    return this.state.inForce();
  }

  async hold(actor: PolicyActor, spec: string, reason: string, sourceName?: string): Promise<PolicyException> {
    const { crate, version } = parseCrateSpec(spec);
    return this.add(actor, { kind: 'hold', crate, version, reason, expiresAt: null }, sourceName);
  }

  async release(
    actor: PolicyActor,
    spec: string,
    reason: string,
    forMs = DEFAULT_RELEASE_MS,
    sourceName?: string,
  ): Promise<PolicyException> {
    const { crate, version } = parseCrateSpec(spec);
    if (version === null) throw invalid('invalid-policy-exception', `an early release names one version: ${crate}@<version>`);
    if (!(forMs > 0 && forMs <= MAX_RELEASE_MS)) {
      throw invalid('invalid-policy-exception', 'an early release lasts from 1 second to 365 days (--expires-in)');
    }
    const expiresAt = new Date(this.now() + forMs).toISOString();
    return this.add(actor, { kind: 'release', crate, version, reason, expiresAt }, sourceName);
  }

  /** Removes a hold (kind `hold`) or an early release (kind `release`) named exactly as it was made. */
  async remove(actor: PolicyActor, kind: PolicyException['kind'], spec: string, sourceName?: string): Promise<number> {
    const { crate, version } = parseCrateSpec(spec);
    const source = sourceName === undefined ? null : sourceKeyOf(this.source(sourceName));
    const removed = await this.store.removeExceptions(kind, crate, version, source);
    if (removed === 0) {
      const where = sourceName === undefined ? '' : ` for source \`${sourceName}\``;
      throw notFound('policy-exception-not-found', `there is no ${kind} on ${spec}${where} (\`policy list\` shows them as they were made)`);
    }
    await this.state.reloadExceptions();
    this.audit.record('policy-change', actor.audit, { crate, version: version ?? undefined, detail: `removed ${kind} on ${spec}` });
    return removed;
  }

  private async add(
    actor: PolicyActor,
    fields: Pick<PolicyException, 'kind' | 'crate' | 'version' | 'reason' | 'expiresAt'>,
    sourceName: string | undefined,
  ): Promise<PolicyException> {
    const reason = fields.reason.trim();
    if (reason === '' || reason.length > 500) throw invalid('invalid-policy-exception', 'give a reason (up to 500 characters)');
    const source: PolicySourceKey | null = sourceName === undefined ? null : sourceKeyOf(this.source(sourceName));
    const exception = await this.store.addException({
      ...fields,
      reason,
      source,
      createdBy: actor.login,
      createdAt: new Date(this.now()).toISOString(),
    });
    await this.state.reloadExceptions();
    const what = `${fields.crate}${fields.version === null ? '' : `@${fields.version}`}`;
    const until = fields.expiresAt === null ? '' : ` until ${fields.expiresAt}`;
    this.audit.record('policy-change', actor.audit, {
      crate: fields.crate,
      version: fields.version ?? undefined,
      detail: `${fields.kind} ${what}${sourceName === undefined ? '' : ` (${sourceName})`}${until}: ${reason}`,
    });
    return exception;
  }
}
