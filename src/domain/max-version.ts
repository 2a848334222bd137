// The version a crate is shown at: in search results (stored with the crate, sql-max-version.ts),
// on its page and for its docs.

import { compareVersions, tryParseVersion, type Version } from './version.js';

/** What the choice needs of a version: its number and whether it is yanked. */
export interface VersionState {
  entry: { vers: string };
  yanked: boolean;
}

/** The version shown for a crate with none that parses. */
export const NO_VERSION = '0.0.0';

/**
 * The version `cargo search` shows: the highest stable version that is not yanked (what `cargo add`
 * would pick); failing that the highest pre-release that is not yanked; failing that the highest.
 */
export function maxVersion(versions: readonly VersionState[]): string {
  const parsed = versions.flatMap((v) => {
    const version = tryParseVersion(v.entry.vers);
    return version ? [{ version, yanked: v.yanked }] : [];
  });
  const highest = (list: { version: Version }[]) =>
    list.reduce<Version | undefined>((best, { version }) => (!best || compareVersions(version, best) > 0 ? version : best), undefined);
  const live = parsed.filter((v) => !v.yanked);
  const best = highest(live.filter((v) => v.version.pre.length === 0)) ?? highest(live) ?? highest(parsed);
  return best?.raw ?? NO_VERSION;
}
