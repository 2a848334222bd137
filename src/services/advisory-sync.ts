// `cratekeeper advisories sync`: reads a RustSec advisory database, checks every file, and swaps
// the whole set in for one source in one transaction. A malformed file is reported with its path
// and left out; a sync that cannot read its input, finds nothing usable, or fails to store leaves
// the previous advisories in force and says why.

import { isUnscored, parseAdvisoryFile, type Advisory } from '../domain/advisory-file.js';
import { cvssProblem } from '../domain/cvss.js';
import { RegistryError } from '../domain/errors.js';
import { noProgress, type OnProgress } from '../domain/progress.js';
import type { Advisories, AdvisorySourceKey } from '../ports/advisories.js';
import { readAdvisoryDatabase, syncFailed } from './advisory-database-reader.js';

export interface SkippedAdvisory {
  path: string;
  reason: string;
}

export interface AdvisorySyncSummary {
  source: AdvisorySourceKey;
  origin: string;
  syncId: number;
  imported: number;
  withdrawn: number;
  skipped: SkippedAdvisory[];
  /** Imported, but with a CVSS vector that cannot be scored (a minimum-CVSS rule treats them as severe enough). */
  unscored: SkippedAdvisory[];
}

export const READING_PHASE = 'reading advisories';
export const CHECKING_PHASE = 'checking advisories';

export class AdvisorySyncService {
  constructor(
    private readonly advisories: Advisories,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async sync(from: string, source: AdvisorySourceKey, onProgress: OnProgress = noProgress): Promise<AdvisorySyncSummary> {
    onProgress(READING_PHASE, 0, 1, from);
    const files = await readAdvisoryDatabase(from);
    onProgress(READING_PHASE, 1, 1, `${files.length} files`);
    if (files.length === 0) throw syncFailed(`${from} holds no advisory files (crates/<name>/RUSTSEC-*.md): nothing was changed`);

    const accepted: Advisory[] = [];
    const skipped: SkippedAdvisory[] = [];
    const unscored: SkippedAdvisory[] = [];
    const seen = new Map<string, string>();
    const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (const [i, file] of sorted.entries()) {
      try {
        if (file.text === undefined) throw syncFailed(`${file.path}: the file is too large to be an advisory`);
        const advisory = parseAdvisoryFile(file.path, file.text);
        const earlier = seen.get(advisory.id);
        if (earlier !== undefined) throw syncFailed(`${file.path}: ${advisory.id} is also in ${earlier}`);
        seen.set(advisory.id, file.path);
        accepted.push(advisory);
        if (isUnscored(advisory)) unscored.push({ path: file.path, reason: cvssProblem(advisory.cvss!) ?? 'no score' });
      } catch (error) {
        if (!(error instanceof RegistryError)) throw error;
        skipped.push({
          path: file.path,
          reason: error.message.startsWith(`${file.path}: `) ? error.message.slice(file.path.length + 2) : error.message,
        });
      }
      if ((i + 1) % 100 === 0 || i + 1 === sorted.length) onProgress(CHECKING_PHASE, i + 1, sorted.length, file.path);
    }
    if (accepted.length === 0) {
      throw syncFailed(
        `none of the ${files.length} advisory files in ${from} could be read (the first: ${skipped[0]!.path}: ${skipped[0]!.reason}): nothing was changed`,
      );
    }

    let syncId: number;
    try {
      const record = await this.advisories.replaceAll(accepted, {
        source,
        origin: from,
        syncedAt: this.now().toISOString(),
        skipped: skipped.length,
      });
      syncId = record.id;
    } catch (error) {
      throw syncFailed(
        `storing the advisories failed, the previous ones stay in force: ${error instanceof Error ? error.message : String(error)}`,
        error,
      );
    }
    return {
      source,
      origin: from,
      syncId,
      imported: accepted.length,
      withdrawn: accepted.filter((a) => a.withdrawn !== undefined).length,
      skipped,
      unscored,
    };
  }
}
