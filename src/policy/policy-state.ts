// The policy settings and exceptions (holds, early releases) of every source, kept in memory and
// reloaded from the database when the change feed reports a `policy` change, so every replica acts
// on an edit within one poll interval without a restart. Settings stored in the database win over
// the configuration file's defaults (`[[upstreams]] min_release_age`). Revisions change on every
// reload, and when an exception expires, so the engine's caches never outlive what they were built on.

import type { PolicyException, PolicySourceKey, PolicyStore } from '../ports/policy-store.js';
import { sourceKeyOf, storedPolicySetting, type PolicySettings, type SourcePolicy } from './policy-settings.js';
import type { PolicySource } from './version-rule.js';

const NONE: SourcePolicy = Object.freeze({});

export class PolicyState implements PolicySettings {
  private stored = new Map<PolicySourceKey, SourcePolicy>();
  private merged = new Map<PolicySourceKey, SourcePolicy>();
  private exceptions: PolicyException[] = [];
  private settingsSeq = 0;
  private exceptionsSeq = 0;
  /** The earliest expiry among the exceptions in force (ms); Infinity when none expires. */
  private nextExpiry = Infinity;

  constructor(
    private readonly store: PolicyStore,
    /** The configuration file's settings of a source (its defaults). */
    private readonly defaults: (source: PolicySource) => SourcePolicy,
    private readonly now: () => number,
  ) {}

  /** Reads settings and exceptions; call before serving, then on every `policy` change. */
  async load(): Promise<void> {
    await Promise.all([this.reloadSettings(), this.reloadExceptions()]);
  }

  async reloadSettings(): Promise<void> {
    const rows = await this.store.listSettings();
    const stored = new Map<PolicySourceKey, SourcePolicy>();
    for (const row of rows) {
      const value = storedPolicySetting(row.key, row.value);
      if (value === undefined) continue;
      const settings = stored.get(row.source) ?? {};
      (settings as Record<string, unknown>)[row.key] = value;
      stored.set(row.source, settings);
    }
    this.stored = stored;
    this.merged = new Map();
    this.settingsSeq++;
  }

  async reloadExceptions(): Promise<void> {
    this.exceptions = await this.store.listExceptions();
    this.exceptionsSeq++;
    this.nextExpiry = this.earliestExpiry();
  }

  get(source: PolicySource): SourcePolicy {
    const key = sourceKeyOf(source);
    let settings = this.merged.get(key);
    if (settings === undefined) {
      const stored = this.stored.get(key);
      const defaults = this.defaults(source);
      settings = stored === undefined && Object.keys(defaults).length === 0 ? NONE : { ...defaults, ...stored };
      this.merged.set(key, settings);
    }
    return settings;
  }

  /** What the database sets for a source (without the configuration's defaults). */
  storedFor(key: PolicySourceKey): SourcePolicy {
    return this.stored.get(key) ?? NONE;
  }

  revision(): string {
    return `s${this.settingsSeq}`;
  }

  /** Changes on every reload of the exceptions and whenever one expires. */
  exceptionsRevision(): string {
    if (this.now() >= this.nextExpiry) {
      this.exceptionsSeq++;
      this.nextExpiry = this.earliestExpiry();
    }
    return `e${this.exceptionsSeq}`;
  }

  /** The exceptions in force now (expired ones left out). */
  inForce(): PolicyException[] {
    const now = this.now();
    return this.exceptions.filter((e) => e.expiresAt === null || Date.parse(e.expiresAt) > now);
  }

  /** The holds in force on a crate (lower-case) from a source: the whole crate, or single versions. */
  holdsOn(source: PolicySource, crate: string): PolicyException[] {
    return this.matching('hold', source, crate);
  }

  /** The early release in force for one version, if any. */
  releaseOf(source: PolicySource, crate: string, version: string): PolicyException | undefined {
    return this.matching('release', source, crate).find((e) => e.version === version);
  }

  private matching(kind: PolicyException['kind'], source: PolicySource, crate: string): PolicyException[] {
    if (this.exceptions.length === 0) return [];
    const key = sourceKeyOf(source);
    const now = this.now();
    return this.exceptions.filter(
      (e) =>
        e.kind === kind &&
        e.crate === crate &&
        (e.source === null || e.source === key) &&
        (e.expiresAt === null || Date.parse(e.expiresAt) > now),
    );
  }

  private earliestExpiry(): number {
    const now = this.now();
    let earliest = Infinity;
    for (const e of this.exceptions) {
      if (e.expiresAt === null) continue;
      const at = Date.parse(e.expiresAt);
      if (at > now && at < earliest) earliest = at;
    }
    return earliest;
  }
}
