// The seam between the supply-chain policy engine and its rules (quarantine, advisories, licences,
// holds). A rule looks at the versions of one crate from one source and says which of them it
// holds back (`deny`: yanked in the index cargo reads, download refused) or marks (`warn`:
// served, shown on pages and in the API). The engine (policy-engine.ts) asks every rule, filters
// index files, refuses downloads, answers `policy check`, and records refusals; rules never touch
// HTTP, caches or the audit log themselves.

/** Where a version comes from: a crate published here, or an upstream (by its configured name). */
export type PolicySource = { kind: 'local' } | { kind: 'upstream'; upstream: string };

/** One version as its index line gives it (the parsed JSON object of the line). */
export interface VersionUnderReview {
  name: string;
  vers: string;
  /** `pubtime` of the index line, when the source gives one (YYYY-MM-DDTHH:MM:SSZ). */
  pubtime?: string;
  yanked: boolean;
}

export type PolicyRuleName = 'quarantine' | 'hold' | 'advisory' | 'licence';

export interface PolicyFinding {
  rule: PolicyRuleName;
  effect: 'deny' | 'warn';
  /** One sentence for the person running cargo: names the version and why, e.g. "serde@1.0.300 is affected by RUSTSEC-2026-0001 (title)". */
  detail: string;
  /** For a finding that ends by itself (quarantine): when, in ms since the epoch. */
  until?: number;
  /** Machine-readable facts for the API and pages: advisory id, licence expression, release time... */
  facts?: Record<string, string>;
}

export interface PolicyRule {
  readonly name: PolicyRuleName;
  /**
   * The findings for some versions of one crate from one source, by `vers`; versions without
   * findings are absent. Must not throw for a version it knows nothing about. Called on index reads
   * (the engine caches the filtered file), downloads and `policy check`.
   */
  review(source: PolicySource, crate: string, versions: readonly VersionUnderReview[], now: number): Promise<Map<string, PolicyFinding[]>>;
  /**
   * Whether `review` could find anything for this crate from this source, from what the rule knows
   * without the versions (no hold on it, advisories off...). When no rule may, the engine does not
   * read the index file's lines at all: a cold read of a large local crate parses nothing. A rule
   * that knows without a lookup answers `false` itself, not a promise: when every rule does, the
   * engine answers at once and keeps no review of the crate.
   */
  mayApply(source: PolicySource, crate: string): boolean | Promise<boolean>;
  /**
   * Changes whenever this rule's answers may change other than by time passing (a policy setting
   * edited, an advisory sync, an exception granted), on every replica within the cache poll
   * interval. The engine keys its caches and the served index file's ETag on it.
   */
  revision(): string;
}

/** The rules that may find something for this crate from this source (`mayApply`), asked together. */
export function rulesThatMayApply(rules: readonly PolicyRule[], source: PolicySource, crate: string): Promise<PolicyRule[]> {
  return rulesAnswering(
    rules,
    rules.map((rule) => rule.mayApply(source, crate)),
  );
}

/** The rules whose `mayApply` answer, given in the same order, is (or resolves to) true. */
export async function rulesAnswering(
  rules: readonly PolicyRule[],
  mayApply: readonly (boolean | Promise<boolean>)[],
): Promise<PolicyRule[]> {
  const answers = await Promise.all(mayApply);
  return rules.filter((_, i) => answers[i]);
}

/** Every rule's findings for these versions, merged by `vers`; versions without findings are absent. */
export async function reviewVersions(
  rules: readonly PolicyRule[],
  source: PolicySource,
  crate: string,
  versions: readonly VersionUnderReview[],
  now: number,
): Promise<Map<string, PolicyFinding[]>> {
  const findings = new Map<string, PolicyFinding[]>();
  if (versions.length === 0) return findings;
  const answers = await Promise.all(rules.map((rule) => rule.review(source, crate, versions, now)));
  for (const answer of answers) {
    for (const [vers, list] of answer) {
      if (list.length === 0) continue;
      const all = findings.get(vers);
      if (all === undefined) findings.set(vers, [...list]);
      else all.push(...list);
    }
  }
  return findings;
}
