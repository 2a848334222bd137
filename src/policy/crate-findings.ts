// A crate's policy findings as the pages and the crate API show them: every version's findings from
// the engine (the same cached review the index files are filtered by), flattened with the facts a
// reader looks for (advisory id and title, quarantine release time, licence), and, for local crates,
// the licence verdict of the registry's rule today. Mirrored crates are read from their upstream's
// index file as the mirror serves it. Callers check who may read the crate first: this module
// answers for any name it is given.

import type { MirrorService } from '../mirror/mirror-service.js';
import type { IndexFiles } from '../services/index-files.js';
import type { LicenceRule, LocalLicenceVerdict } from './licence-rule.js';
import type { PolicyEngine, PolicyReview } from './policy-engine.js';
import type { PolicyFinding, PolicySource } from './version-rule.js';

/** One finding about one version, with its facts lifted out for the API. */
export interface VersionFinding extends PolicyFinding {
  version: string;
  advisory: string | null;
  title: string | null;
  /** When a quarantine ends (ISO); null for other rules. */
  released_at: string | null;
  /** The licence a licence finding is about; null for other rules. */
  licence: string | null;
}

export interface CratePolicyView {
  findings: ReadonlyMap<string, readonly PolicyFinding[]>;
  denied: ReadonlySet<string>;
}

export function flattenFindings(findings: ReadonlyMap<string, readonly PolicyFinding[]>): VersionFinding[] {
  const out: VersionFinding[] = [];
  for (const [version, list] of findings) {
    for (const f of list) {
      out.push({
        ...f,
        version,
        advisory: f.facts?.advisory ?? null,
        title: f.facts?.title ?? null,
        released_at: f.rule === 'quarantine' ? (f.facts?.released_at ?? null) : null,
        licence: f.rule === 'licence' ? (f.facts?.licence ?? null) : null,
      });
    }
  }
  return out;
}

export class CrateFindings {
  constructor(
    private readonly engine: PolicyEngine,
    private readonly indexFiles: Pick<IndexFiles, 'get'>,
    private readonly mirror: Pick<MirrorService, 'get'>,
    private readonly licences: Pick<LicenceRule, 'localVerdict'>,
  ) {}

  /** A local crate's findings (lower-case name); none for a crate with no index file. */
  async local(lowerName: string): Promise<CratePolicyView> {
    const file = await this.indexFiles.get(lowerName);
    return file ? this.engine.findings({ kind: 'local' }, lowerName, file) : EMPTY;
  }

  /** A mirrored crate's review, or undefined when the upstream is not configured or has no such crate. */
  async mirrored(upstream: string, lowerName: string): Promise<(PolicyReview & { source: PolicySource }) | undefined> {
    const mirror = this.mirror.get(upstream);
    const file = await mirror?.indexFile(lowerName);
    if (!mirror || !file) return undefined;
    const source: PolicySource = { kind: 'upstream', upstream: mirror.name };
    return { ...(await this.engine.review(source, lowerName, file)), source };
  }

  /** What the registry's licence rule says today of a local version's `license`. */
  localLicence(license: string | null): LocalLicenceVerdict {
    return this.licences.localVerdict(license);
  }
}

const EMPTY: CratePolicyView = { findings: new Map(), denied: new Set() };
