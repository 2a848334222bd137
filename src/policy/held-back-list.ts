// The admin page's list of what the supply-chain policy holds back, and why, built from the
// database rather than from what one process happened to review: the same on every replica and
// after a restart. Candidates are the crates some `deny` could touch:
//   - holds in force (whole crates or single versions);
//   - crates with advisories synced for a source whose `advisories` is `deny`;
//   - upstream crates with a version first seen (or with a pubtime) within `min_release_age`.
// Each candidate's known versions (a local crate's published ones; an upstream crate's first
// sightings, since only versions once served here can have been held back) go through the rules
// themselves, so the list says exactly what they would. The licence rule is left out: what it knows
// of upstream licences lives in the blob store, and local licences are judged at publish time.
//
// Paged by (source, crate) with a cursor, each page examining at most `limit` candidate crates:
// a crates.io mirror with thousands of fresh versions costs one bounded page per view.

import { invalid } from '../domain/errors.js';
import type { PolicySourceKey, PolicyStore } from '../ports/policy-store.js';
import type { Advisories } from '../ports/advisories.js';
import { sourceKeyOf, sourceLabel, type PolicySettings } from './policy-settings.js';
import type { PolicyState } from './policy-state.js';
import {
  reviewVersions,
  rulesThatMayApply,
  type PolicyFinding,
  type PolicyRule,
  type PolicySource,
  type VersionUnderReview,
} from './version-rule.js';

export interface HeldBackRow {
  source: string;
  crate: string;
  version: string;
  findings: readonly PolicyFinding[];
}

export interface HeldBackPage {
  rows: HeldBackRow[];
  /** Pass as `after` for the next page; undefined when this page reached the end. */
  next: string | undefined;
}

export interface HeldBackSources {
  store: Pick<PolicyStore, 'cratesSeenSince' | 'firstSightings'>;
  advisories: Pick<Advisories, 'cratesWithAdvisories'>;
  /** A local crate's published versions (lower-case name); empty when there is none. */
  localVersions: (lowerName: string) => Promise<VersionUnderReview[]>;
  /** The configured upstreams' names. */
  upstreams: readonly string[];
}

export const MAX_HELD_BACK_PAGE = 200;
export const DEFAULT_HELD_BACK_PAGE = 50;

/** `per_page` of the admin API and page: 1 to MAX_HELD_BACK_PAGE; throws for anything else. */
export function parseHeldBackPerPage(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_HELD_BACK_PAGE;
  const n = /^\d{1,4}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= MAX_HELD_BACK_PAGE)) {
    throw invalid('invalid-held-back-query', `per_page must be a number from 1 to ${MAX_HELD_BACK_PAGE} (crates examined per page)`);
  }
  return n;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export class HeldBackList {
  constructor(
    private readonly sources: HeldBackSources,
    private readonly settings: PolicySettings,
    private readonly exceptions: Pick<PolicyState, 'inForce'>,
    /** The rules that may deny from what the database knows: holds, quarantine, advisories. */
    private readonly rules: readonly PolicyRule[],
    private readonly now: () => number,
  ) {}

  /** One page of held-back versions, examining at most `limit` candidate crates after the cursor `after`. */
  async page(after: string | undefined, limit: number): Promise<HeldBackPage> {
    const candidates = await this.candidates(parseCursor(after), Math.max(1, Math.min(limit, MAX_HELD_BACK_PAGE)) + 1);
    const more = candidates.length > limit;
    const examined = more ? candidates.slice(0, limit) : candidates;
    const rows: HeldBackRow[] = [];
    const now = this.now();
    for (const { source, crate } of examined) rows.push(...(await this.heldIn(source, crate, now)));
    const last = examined[examined.length - 1];
    return { rows, next: more && last ? `${sourceKeyOf(last.source)}\n${last.crate}` : undefined };
  }

  private async heldIn(source: PolicySource, crate: string, now: number): Promise<HeldBackRow[]> {
    const versions = await this.versionsOf(source, crate);
    if (versions.length === 0) return [];
    const findings = await reviewVersions(await rulesThatMayApply(this.rules, source, crate), source, crate, versions, now);
    const rows: HeldBackRow[] = [];
    for (const v of versions) {
      const list = findings.get(v.vers);
      if (list?.some((f) => f.effect === 'deny')) rows.push({ source: sourceLabel(source), crate, version: v.vers, findings: list });
    }
    return rows;
  }

  private async versionsOf(source: PolicySource, crate: string): Promise<VersionUnderReview[]> {
    if (source.kind === 'local') return this.sources.localVersions(crate);
    const sightings = await this.sources.store.firstSightings(sourceKeyOf(source), crate);
    return [...sightings.values()].map((s) => ({
      name: crate,
      vers: s.version,
      yanked: false,
      ...(s.pubtimeAtFirstSight !== undefined && { pubtime: iso(s.pubtimeAtFirstSight) }),
    }));
  }

  /** Up to `limit` candidate crates in (source key, crate) order, after the cursor. */
  private async candidates(cursor: Cursor | undefined, limit: number): Promise<Array<{ source: PolicySource; crate: string }>> {
    const sources: PolicySource[] = [
      { kind: 'local' },
      ...this.sources.upstreams.map((upstream) => ({ kind: 'upstream' as const, upstream })),
    ];
    sources.sort((a, b) => (sourceKeyOf(a) < sourceKeyOf(b) ? -1 : 1));
    const out: Array<{ source: PolicySource; crate: string }> = [];
    for (const source of sources) {
      const key = sourceKeyOf(source);
      if (cursor !== undefined && key < cursor.source) continue;
      const after = cursor !== undefined && key === cursor.source ? cursor.crate : undefined;
      const crates = await this.cratesOf(source, key, after, limit - out.length);
      for (const crate of crates) out.push({ source, crate });
      if (out.length >= limit) break;
    }
    return out;
  }

  private async cratesOf(source: PolicySource, key: PolicySourceKey, after: string | undefined, limit: number): Promise<string[]> {
    const settings = this.settings.get(source);
    const found = new Set<string>();
    for (const e of this.exceptions.inForce()) {
      if (e.kind === 'hold' && (e.source === null || e.source === key) && (after === undefined || e.crate > after)) found.add(e.crate);
    }
    if (settings.advisories === 'deny') {
      for (const crate of await this.sources.advisories.cratesWithAdvisories(key, after, limit)) found.add(crate);
    }
    const minAge = settings.min_release_age ?? 0;
    if (source.kind === 'upstream' && minAge > 0) {
      for (const crate of await this.sources.store.cratesSeenSince(key, this.now() - minAge, after, limit)) found.add(crate);
    }
    return [...found].sort().slice(0, limit);
  }
}

interface Cursor {
  source: PolicySourceKey;
  crate: string;
}

function parseCursor(after: string | undefined): Cursor | undefined {
  if (after === undefined || after === '') return undefined;
  const newline = after.indexOf('\n');
  if (newline === -1) return undefined;
  return { source: after.slice(0, newline), crate: after.slice(newline + 1) };
}
