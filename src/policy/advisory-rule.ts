// The advisory rule: a version affected by a RustSec advisory synced for its source (`cratekeeper
// advisories sync --for`) is denied or marked, per the source's policy:
//
//   advisories               "deny" | "warn" | "off" (default off)
//   advisories_min_cvss      a score from 0 to 10 (default 0): under `deny`, an advisory scored
//                            below it, or without a CVSS vector, only warns (it is still shown);
//                            one whose vector cannot be scored denies (fail closed: it may be severe)
//   advisories_informational whether informational advisories (unmaintained, unsound, notice)
//                            count at all (default false: they are ignored)
//
// Withdrawn advisories never apply. Advisories are kept per source, so an advisory for crates.io's
// `foo` never touches a local `foo`. The revision is the newest sync's id, reloaded on the
// `policy`/`advisories` change every sync records, so every replica sees a sync within a poll interval.

import { isAffected, isUnscored, type Advisory } from '../domain/advisory-file.js';
import { tryParseVersion } from '../domain/version.js';
import { LruCache } from '../lib/lru-cache.js';
import type { Advisories } from '../ports/advisories.js';
import { sourceKeyOf, type PolicySettings, type SourcePolicy } from './policy-settings.js';
import type { PolicyFinding, PolicyRule, PolicySource, VersionUnderReview } from './version-rule.js';

/** Crates whose advisories are kept in memory between syncs (most have none: an empty list). */
const CACHED_CRATES = 20_000;

/** What a source's policy does with advisories: nothing unless it says. */
function advisoryMode(policy: SourcePolicy): NonNullable<SourcePolicy['advisories']> {
  return policy.advisories ?? 'off';
}

export class AdvisoryRule implements PolicyRule {
  readonly name = 'advisory' as const;
  private syncId = 0;
  private readonly cache = new LruCache<string, Advisory[]>(CACHED_CRATES);

  constructor(
    private readonly settings: PolicySettings,
    private readonly advisories: Advisories,
  ) {}

  /** Reads the newest sync; call before serving and on every `policy`/`advisories` change. */
  async load(): Promise<void> {
    const latest = await this.advisories.latestSyncId();
    if (latest !== this.syncId) this.cache.clear();
    this.syncId = latest;
  }

  revision(): string {
    return `${this.settings.revision()}/a${this.syncId}`;
  }

  mayApply(source: PolicySource, crate: string): boolean | Promise<boolean> {
    const policy = this.settings.get(source);
    if (advisoryMode(policy) === 'off') return false;
    return this.applicable(source, crate, policy).then((advisories) => advisories.length > 0);
  }

  async review(source: PolicySource, crate: string, versions: readonly VersionUnderReview[]): Promise<Map<string, PolicyFinding[]>> {
    const findings = new Map<string, PolicyFinding[]>();
    const policy = this.settings.get(source);
    const mode = advisoryMode(policy);
    if (mode === 'off') return findings;
    const applicable = await this.applicable(source, crate, policy);
    if (applicable.length === 0) return findings;
    for (const entry of versions) {
      const version = tryParseVersion(entry.vers);
      if (version === undefined) continue;
      const found = applicable.filter((a) => isAffected(a, version)).map((a) => findingOf(a, entry, mode, policy));
      if (found.length > 0) findings.set(entry.vers, found);
    }
    return findings;
  }

  /** The advisories that count under the source's policy, which its callers found not off. */
  private async applicable(source: PolicySource, crate: string, policy: SourcePolicy): Promise<Advisory[]> {
    return (await this.advisoriesOf(source, crate)).filter(
      (a) => a.withdrawn === undefined && (a.informational === undefined || policy.advisories_informational === true),
    );
  }

  /** The advisories (withdrawn ones too) of a crate from a source, for pages and the API. */
  async advisoriesOf(source: PolicySource, crate: string): Promise<Advisory[]> {
    const key = `${sourceKeyOf(source)}\u0000${crate.toLowerCase()}`;
    let list = this.cache.get(key);
    if (list === undefined) {
      const syncId = this.syncId;
      list = await this.advisories.forCrate(sourceKeyOf(source), crate);
      // A sync that landed meanwhile cleared the cache: do not put the older list back.
      if (syncId === this.syncId) this.cache.set(key, list);
    }
    return list;
  }
}

function findingOf(a: Advisory, version: VersionUnderReview, mode: 'deny' | 'warn', policy: SourcePolicy): PolicyFinding {
  const minCvss = policy.advisories_min_cvss ?? 0;
  // An advisory with a vector that cannot be scored counts as severe enough: its author rated it,
  // and a rule that cannot read the rating must not let the version through on that account.
  const severeEnough = minCvss <= 0 || (a.cvssScore !== undefined && a.cvssScore >= minCvss) || isUnscored(a);
  return {
    rule: 'advisory',
    effect: mode === 'deny' && severeEnough ? 'deny' : 'warn',
    detail: `${version.name}@${version.vers} is affected by ${a.id} (${a.title})`,
    facts: {
      advisory: a.id,
      title: a.title,
      ...(a.url !== undefined && { url: a.url }),
      ...(a.cvssScore !== undefined && { cvss: a.cvssScore.toFixed(1) }),
      ...(isUnscored(a) && { cvss_unscored: a.cvss!.slice(0, 200) }),
      ...(a.informational !== undefined && { informational: a.informational }),
      ...(a.aliases.length > 0 && { aliases: a.aliases.join(', ') }),
      ...(a.patched.length > 0 && { patched: a.patched.join(' or ') }),
      ...(mode === 'deny' && !severeEnough && { below_min_cvss: String(minCvss) }),
    },
  };
}
