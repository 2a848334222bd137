// The supply-chain policy engine: asks every rule (quarantine, holds, advisories, licences) about
// the versions of a crate, and acts on the answers. It marks `deny`ed versions yanked in the index
// files cargo reads (local ones and mirrored ones alike), so resolution picks the newest version
// allowed while a lockfile pinning one still reaches the download, whose refusal names the reason
// (index-lines.ts says why not to drop the line); refuses their downloads; and answers `policy
// check`. A filtered file's ETag is a hash of the original ETag and the held-back set, so it changes
// exactly when that set does (a version leaving quarantine reaches cargo with no manual step).
//
// Results are cached per source and crate, and kept while the original file (its ETag), every
// rule's revision and the earliest end of a finding (`until`) stay as they were; with no finding
// the original file object itself is served, so the hot path costs one map lookup and a few
// string comparisons. A crate every rule says at once it may not apply to (the default policy's
// local crates) gets no entry at all. An entry never holds the original file (the index cache
// decides how long that lives) and holds a filtered copy only for a crate with versions denied;
// the cache is bounded by what its entries weigh.

import { createHash } from 'node:crypto';
import { indexFileBody, type IndexFile } from '../domain/index-file.js';
import { LruCache } from '../lib/lru-cache.js';
import { readIndexLines, withVersionsYanked } from './index-lines.js';
import { sourceKeyOf } from './policy-settings.js';
import {
  reviewVersions,
  rulesAnswering,
  type PolicyFinding,
  type PolicyRule,
  type PolicyRuleName,
  type PolicySource,
  type VersionUnderReview,
} from './version-rule.js';

export interface PolicyReview {
  /** Every version of the file, as its line gives it. */
  versions: readonly VersionUnderReview[];
  /** Findings by version (versions without any are absent). */
  findings: ReadonlyMap<string, readonly PolicyFinding[]>;
  /** Versions with a `deny` finding: yanked in the index cargo reads, downloads refused. */
  denied: ReadonlySet<string>;
}

interface Entry {
  inputEtag: string;
  revisions: readonly string[];
  /** The review is stale from this time on (a finding ending by itself); Infinity: never. */
  validUntil: number;
  findings: ReadonlyMap<string, readonly PolicyFinding[]>;
  denied: ReadonlySet<string>;
  /** The file with denied versions marked yanked; undefined when nothing is denied (the input is served). */
  filtered: IndexFile | undefined;
}

/**
 * What the reviews kept per source may weigh, in bytes (filtered bodies counted in full): about
 * 28,000 crates with nothing denied (only crates some rule may apply to have one). An entry only
 * saves work while its crate's file is in memory (else reading the file costs more than a review
 * that reads no line), and the index cache's default 64 MiB holds fewer files than that. At
 * 32 MiB, 110,000 entries took 23 MB of the heap after reads of that many crates (bench/README.md).
 */
const MAX_BYTES_PER_SOURCE = 8 * 1024 ** 2;
/** What an entry weighs besides a filtered body: its objects, and each finding's. */
const ENTRY_BYTES = 300;
const FINDING_BYTES = 200;

const NO_FINDINGS: ReadonlyMap<string, readonly PolicyFinding[]> = new Map();
const NONE_DENIED: ReadonlySet<string> = new Set();
/** The review of a crate no rule may find anything for: the file is served as it is. */
const NOTHING_FOUND: Entry = {
  inputEtag: '',
  revisions: [],
  validUntil: Infinity,
  findings: NO_FINDINGS,
  denied: NONE_DENIED,
  filtered: undefined,
};

function weightOf(entry: Entry): number {
  let findings = 0;
  for (const list of entry.findings.values()) findings += list.length;
  return ENTRY_BYTES + findings * FINDING_BYTES + (entry.filtered?.body?.length ?? 0);
}

export class PolicyEngine {
  private readonly caches = new Map<string, LruCache<string, Entry>>();
  private readonly refusalCounts = new Map<PolicyRuleName, number>();
  /** The rules' revisions at the last review: entries made under the same ones share this array. */
  private lastRevisions: readonly string[] = [];

  constructor(
    private readonly rules: readonly PolicyRule[],
    private readonly now: () => number,
  ) {}

  /** The rules' names, for pages and metrics. */
  get ruleNames(): PolicyRuleName[] {
    return this.rules.map((r) => r.name);
  }

  /**
   * The index file cargo should see: `file` itself when nothing is denied, else a copy with the
   * denied versions marked yanked and its own ETag. Synchronous on a cache hit.
   */
  filter(source: PolicySource, crate: string, file: IndexFile): IndexFile | Promise<IndexFile> {
    const entry = this.entryFor(source, crate, file);
    return entry instanceof Promise ? entry.then((e) => e.filtered ?? file) : (entry.filtered ?? file);
  }

  /**
   * The findings and denied versions of a crate's index file, without its versions: a cached answer
   * parses nothing (the crate API and page ask on every view; a large file takes tens of ms to parse).
   */
  async findings(source: PolicySource, crate: string, file: IndexFile): Promise<Omit<PolicyReview, 'versions'>> {
    const entry = await this.entryFor(source, crate, file);
    return { findings: entry.findings, denied: entry.denied };
  }

  /** The findings of every version of a crate's index file (the findings cached as `filter`'s are). */
  async review(source: PolicySource, crate: string, file: IndexFile): Promise<PolicyReview> {
    const entry = await this.entryFor(source, crate, file);
    return { versions: versionsOf(readIndexLines(indexFileBody(file))), findings: entry.findings, denied: entry.denied };
  }

  /**
   * The `deny` findings that refuse a download of this version, or undefined when it may be
   * downloaded. Counts the refusal per rule for /metrics.
   */
  async downloadRefusal(
    source: PolicySource,
    crate: string,
    version: string,
    file: IndexFile,
  ): Promise<readonly PolicyFinding[] | undefined> {
    const entry = await this.entryFor(source, crate, file);
    if (!entry.denied.has(version)) return undefined;
    const denying = entry.findings.get(version)!.filter((f) => f.effect === 'deny');
    for (const rule of new Set(denying.map((f) => f.rule))) this.refusalCounts.set(rule, (this.refusalCounts.get(rule) ?? 0) + 1);
    return denying;
  }

  /** Downloads refused so far, by rule (read by /metrics). */
  refusals(): ReadonlyMap<PolicyRuleName, number> {
    return this.refusalCounts;
  }

  private cacheOf(source: PolicySource): LruCache<string, Entry> {
    const key = sourceKeyOf(source);
    let cache = this.caches.get(key);
    if (cache === undefined) this.caches.set(key, (cache = new LruCache(MAX_BYTES_PER_SOURCE, weightOf)));
    return cache;
  }

  /**
   * The review of a crate's file: the cached one, or none at all when every rule answers at once
   * that it may find nothing (nothing is cached then: under the default policy a cold read of a
   * local crate costs a few calls, not an entry), else a new one.
   */
  private entryFor(source: PolicySource, crate: string, file: IndexFile): Entry | Promise<Entry> {
    const cached = this.fresh(source, crate, file);
    if (cached !== undefined) return cached;
    const answers = this.rules.map((rule) => rule.mayApply(source, crate));
    if (answers.every((answer) => answer === false)) return NOTHING_FOUND;
    // Revisions are read in the turn the rules were asked, before any answer of theirs comes: a
    // change while they answer makes the next read ask again.
    return this.refresh(source, crate, file, this.revisionsNow(), answers);
  }

  private fresh(source: PolicySource, crate: string, file: IndexFile): Entry | undefined {
    const entry = this.cacheOf(source).get(crate);
    if (entry === undefined || entry.inputEtag !== file.etag) return undefined;
    for (let i = 0; i < this.rules.length; i++) if (this.rules[i]!.revision() !== entry.revisions[i]) return undefined;
    if (entry.validUntil !== Infinity && this.now() >= entry.validUntil) return undefined;
    return entry;
  }

  private async refresh(
    source: PolicySource,
    crate: string,
    file: IndexFile,
    revisions: readonly string[],
    mayApply: readonly (boolean | Promise<boolean>)[],
  ): Promise<Entry> {
    const now = this.now();
    const applying = await rulesAnswering(this.rules, mayApply);
    // Nothing to ask: the lines are not read (a 2 MB file takes tens of milliseconds to parse).
    const body = applying.length === 0 ? undefined : indexFileBody(file);
    const lines = body === undefined ? undefined : readIndexLines(body);
    const findings = await reviewVersions(applying, source, crate, lines === undefined ? [] : versionsOf(lines), now);
    const denied = new Set<string>();
    let validUntil = Infinity;
    for (const [vers, list] of findings) {
      for (const finding of list) {
        if (finding.effect === 'deny') denied.add(vers);
        if (finding.until !== undefined && finding.until < validUntil) validUntil = finding.until;
      }
    }
    const entry: Entry = {
      inputEtag: file.etag,
      revisions,
      validUntil,
      findings: findings.size === 0 ? NO_FINDINGS : findings,
      denied: denied.size === 0 ? NONE_DENIED : denied,
      filtered: denied.size === 0 || lines === undefined ? undefined : filteredFile(file.etag, body!, lines, denied),
    };
    this.cacheOf(source).set(crate, entry);
    return entry;
  }

  /**
   * The rules' revisions, as the array the last review used when none has changed since: a cache
   * of 50,000 crates then holds one array of them, not 50,000 (about 9 MB, by a heap snapshot).
   */
  private revisionsNow(): readonly string[] {
    const revisions = this.rules.map((r) => r.revision());
    const last = this.lastRevisions;
    if (revisions.length === last.length && revisions.every((r, i) => r === last[i])) return last;
    return (this.lastRevisions = revisions);
  }
}

function versionsOf(lines: ReturnType<typeof readIndexLines>): VersionUnderReview[] {
  const versions: VersionUnderReview[] = [];
  for (const line of lines) if (line.version !== undefined) versions.push(line.version);
  return versions;
}

function filteredFile(etag: string, original: Buffer, lines: ReturnType<typeof readIndexLines>, denied: ReadonlySet<string>): IndexFile {
  const body = withVersionsYanked(original, lines, denied);
  const hash = createHash('sha256')
    .update(etag)
    .update('\n')
    .update([...denied].sort().join('\n'))
    .digest('base64url');
  return { body, etag: `"p${hash.slice(0, 32)}"` };
}

/** One sentence for cargo's output: the version, and every reason it is refused. */
export function refusalMessage(crate: string, version: string, findings: readonly PolicyFinding[]): string {
  return `${crate}@${version} is refused by this registry's supply-chain policy: ${findings.map((f) => f.detail).join('; ')}`;
}
