// Quarantine: a mirrored version younger than its upstream's `min_release_age` is held back (`deny`)
// until it is old enough, unless an administrator released it early.
//
// When a version counts as published (its release clock starts):
//   - its index line had a `pubtime` when cratekeeper first saw it: that pubtime;
//   - it had none: the time cratekeeper first saw it.
// A later `pubtime` in the current line may only delay that (the later of the two counts); an
// earlier one is ignored. So an upstream that backdates a pubtime after first sight, or adds one
// earlier than first sight, never hurries a release. Local crates are not quarantined.

import type { FirstSighting } from '../ports/policy-store.js';
import { pubtimeOf, type FirstSightings } from './first-sightings.js';
import { formatDuration, sourceKeyOf, sourceLabel, type PolicySettings } from './policy-settings.js';
import type { PolicyState } from './policy-state.js';
import type { PolicyFinding, PolicyRule, PolicySource, VersionUnderReview } from './version-rule.js';

/** When a version's release clock starts (ms), per the rule above. */
export function publishedAt(sighting: FirstSighting, version: VersionUnderReview): number {
  const first = sighting.pubtimeAtFirstSight ?? sighting.firstSeenAt;
  const current = pubtimeOf(version);
  return current !== undefined && current > first ? current : first;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export class QuarantineRule implements PolicyRule {
  readonly name = 'quarantine' as const;

  constructor(
    private readonly settings: PolicySettings,
    private readonly exceptions: Pick<PolicyState, 'releaseOf' | 'exceptionsRevision'>,
    private readonly sightings: FirstSightings,
  ) {}

  revision(): string {
    return `${this.settings.revision()}/${this.exceptions.exceptionsRevision()}`;
  }

  /** Mirrored crates only; their first sightings are recorded whatever the setting. */
  mayApply(source: PolicySource): boolean {
    return source.kind === 'upstream';
  }

  async review(
    source: PolicySource,
    crate: string,
    versions: readonly VersionUnderReview[],
    now: number,
  ): Promise<Map<string, PolicyFinding[]>> {
    const findings = new Map<string, PolicyFinding[]>();
    if (source.kind !== 'upstream') return findings;
    // Recorded whatever the setting, so that turning quarantine on later starts from real sightings.
    const sightings = await this.sightings.of(sourceKeyOf(source), crate, versions, now);
    const minAge = this.settings.get(source).min_release_age ?? 0;
    if (minAge <= 0) return findings;
    for (const version of versions) {
      const sighting = sightings.get(version.vers);
      if (sighting === undefined) continue;
      const published = publishedAt(sighting, version);
      const until = published + minAge;
      if (now >= until) continue;
      const facts = { published_at: iso(published), released_at: iso(until), min_release_age: formatDuration(minAge) };
      const label = `${version.name}@${version.vers}`;
      const release = this.exceptions.releaseOf(source, crate, version.vers);
      if (release !== undefined) {
        findings.set(version.vers, [
          {
            rule: 'quarantine',
            effect: 'warn',
            detail: `${label} was released early from quarantine by ${release.createdBy ?? 'an administrator'}: ${release.reason}`,
            until,
            facts: { ...facts, released_early_by: release.createdBy ?? '' },
          },
        ]);
        continue;
      }
      findings.set(version.vers, [
        {
          rule: 'quarantine',
          effect: 'deny',
          detail:
            `${label} is in quarantine until ${iso(until)} (published ${iso(published)}; upstream \`${sourceLabel(source)}\` ` +
            `holds back versions younger than ${formatDuration(minAge)})`,
          until,
          facts,
        },
      ]);
    }
    return findings;
  }
}
