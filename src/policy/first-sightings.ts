// When cratekeeper first saw each version of an upstream crate, and the `pubtime` its index line had
// then: the quarantine's clock. Recorded the first time an index file with the version is reviewed
// (after a fetch or revalidation brought it), once: later sightings, on this replica or another,
// never change it (the database keeps the first insert). Kept in memory per crate, read from the
// database on a miss.

import { LruCache } from '../lib/lru-cache.js';
import type { FirstSighting, PolicySourceKey, PolicyStore } from '../ports/policy-store.js';
import type { VersionUnderReview } from './version-rule.js';

/** Crates whose sightings stay in memory. */
const CACHED_CRATES = 20_000;

/** A `pubtime` as ms since the epoch; undefined when absent or not a time. */
export function pubtimeOf(version: VersionUnderReview): number | undefined {
  if (version.pubtime === undefined) return undefined;
  const ms = Date.parse(version.pubtime);
  return Number.isNaN(ms) ? undefined : ms;
}

export class FirstSightings {
  private readonly cache = new LruCache<string, Map<string, FirstSighting>>(CACHED_CRATES);

  constructor(private readonly store: Pick<PolicyStore, 'firstSightings' | 'recordFirstSightings'>) {}

  /** The first sighting of every version given, recording (as of `now`) those never seen before. */
  async of(
    source: PolicySourceKey,
    crate: string,
    versions: readonly VersionUnderReview[],
    now: number,
  ): Promise<Map<string, FirstSighting>> {
    const key = `${source}\n${crate}`;
    let known = this.cache.get(key) ?? (await this.store.firstSightings(source, crate));
    const unseen: FirstSighting[] = [];
    for (const v of versions) {
      if (!known.has(v.vers)) unseen.push({ version: v.vers, firstSeenAt: now, pubtimeAtFirstSight: pubtimeOf(v) });
    }
    if (unseen.length > 0) {
      await this.store.recordFirstSightings(source, crate, unseen);
      // Another replica may have recorded some first: the stored sightings are the ones that count.
      known = await this.store.firstSightings(source, crate);
    }
    this.cache.set(key, known);
    return known;
  }
}
