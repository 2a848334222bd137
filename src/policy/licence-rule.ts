// The licence rule: per source (local publishes, each upstream), an allow-list and a deny-list of
// SPDX licences, and decisions for a `license-file` alone and for no licence at all (the settings
// `licences_allow`, `licences_deny`, `licence_file`, `licence_missing`). A source with none of
// them set has no licence rule. Local crates are judged when published (PublishService calls
// `checkPublish` before anything is stored); a version published under an earlier rule stays.
// Upstream versions are judged from what the upstream's crates declare (UpstreamLicenceFacts):
// a version whose licence is not known yet is held back (`deny`) until it is: fail closed.

import {
  judgeDeclaredLicence,
  LicenceRefusal,
  type DeclaredLicence,
  type LicenceDecision,
  type LicencePolicy,
} from '../domain/licence-policy.js';
import type { PolicyFinding, PolicyRule, PolicySource, VersionUnderReview } from './version-rule.js';

/** The licence settings of one source, as the policy settings store gives them. */
export interface LicenceSettings {
  licences_allow?: string[];
  licences_deny?: string[];
  licence_file?: LicenceDecision;
  licence_missing?: LicenceDecision;
}

export interface LicenceSettingsSource {
  get(source: PolicySource): LicenceSettings;
  revision(): string;
}

/** What the versions of an upstream crate declare about their licence. */
export interface UpstreamLicenceFacts {
  /** By `vers`; a version whose licence is not known yet is absent (it is being looked up). */
  declared(upstream: string, crate: string, versions: readonly VersionUnderReview[]): Promise<Map<string, DeclaredLicence>>;
  /** Changes when a fact is learnt, so that a version held back while unknown comes back. */
  revision(): string;
}

/**
 * The rule of a source, or undefined when it has none. A rule that is set decides a licence file
 * alone and a missing licence as `deny` unless told otherwise: neither can be shown to satisfy it.
 */
export function licencePolicyOf(settings: LicenceSettings): LicencePolicy | undefined {
  const { licences_allow, licences_deny, licence_file, licence_missing } = settings;
  const configured = (licences_allow?.length ?? 0) > 0 || (licences_deny?.length ?? 0) > 0 || licence_file || licence_missing;
  if (!configured) return undefined;
  return {
    allow: licences_allow ?? [],
    deny: licences_deny ?? [],
    licenceFile: licence_file ?? 'deny',
    missing: licence_missing ?? 'deny',
  };
}

/** A local version's licence under the registry's rule today (see `LicenceRule.localVerdict`). */
export interface LocalLicenceVerdict {
  verdict: 'allowed' | 'warned' | 'denied' | 'no-rule' | 'unknown';
  /** Which rule, in words, when not allowed; null otherwise. */
  reason: string | null;
}

const placeOf = (source: PolicySource) => (source.kind === 'local' ? 'this registry' : `upstream \`${source.upstream}\``);

export class LicenceRule implements PolicyRule {
  readonly name = 'licence' as const;

  constructor(
    private readonly settings: LicenceSettingsSource,
    private readonly facts: UpstreamLicenceFacts,
  ) {}

  revision(): string {
    return `${this.settings.revision()}/${this.facts.revision()}`;
  }

  /** Mirrored crates under a licence rule; local publishes are judged when they are published. */
  mayApply(source: PolicySource): boolean {
    return source.kind !== 'local' && licencePolicyOf(this.settings.get(source)) !== undefined;
  }

  async review(source: PolicySource, crate: string, versions: readonly VersionUnderReview[]): Promise<Map<string, PolicyFinding[]>> {
    const findings = new Map<string, PolicyFinding[]>();
    if (source.kind === 'local' || versions.length === 0) return findings;
    const policy = licencePolicyOf(this.settings.get(source));
    if (!policy) return findings;
    const declared = await this.facts.declared(source.upstream, crate, versions);
    for (const version of versions) {
      const fact = declared.get(version.vers);
      if (!fact) {
        findings.set(version.vers, [
          {
            rule: 'licence',
            effect: 'deny',
            detail:
              `${version.name}@${version.vers} is held back: its licence is not known yet, and upstream \`${source.upstream}\` ` +
              'has a licence rule, so the version waits until cratekeeper has read it from the upstream; try again shortly',
            facts: { licence: 'unknown' },
          },
        ]);
        continue;
      }
      const verdict = judgeDeclaredLicence(fact, policy, placeOf(source));
      if (verdict.allowed) continue;
      findings.set(version.vers, [
        {
          rule: 'licence',
          effect: verdict.effect,
          detail: `${version.name}@${version.vers} ${verdict.effect === 'deny' ? 'is held back' : 'is served with a warning'}: ${verdict.reason}`,
          facts: { licence: verdict.licence },
        },
      ]);
    }
    return findings;
  }

  /**
   * What the registry's rule says today of a local version's licence, for the crate page and API
   * (information only: the version was judged when it was published, and stays). Only the `license`
   * expression is stored beside a version, so a version without one is `unknown` when the rule
   * decides a licence file and a missing licence differently.
   */
  localVerdict(license: string | null): LocalLicenceVerdict {
    const policy = licencePolicyOf(this.settings.get({ kind: 'local' }));
    if (!policy) return { verdict: 'no-rule', reason: null };
    if (!license?.trim() && policy.licenceFile !== policy.missing) {
      return {
        verdict: 'unknown',
        reason: `no licence expression is stored; this registry's rule decides a licence file (${policy.licenceFile}) and no licence (${policy.missing}) differently`,
      };
    }
    const verdict = judgeDeclaredLicence({ license, licenseFile: null }, policy, 'this registry');
    if (verdict.allowed) return { verdict: 'allowed', reason: null };
    return { verdict: verdict.effect === 'deny' ? 'denied' : 'warned', reason: verdict.reason };
  }

  /**
   * A local publish under the registry's rule: `no-rule` without one; throws `licence-refused`
   * (naming the licence and the rule) for a version the rule denies; a warning for one it warns about.
   */
  checkPublish(crate: string, version: string, declared: DeclaredLicence): 'no-rule' | { warning?: string } {
    const policy = licencePolicyOf(this.settings.get({ kind: 'local' }));
    if (!policy) return 'no-rule';
    const verdict = judgeDeclaredLicence(declared, policy, 'this registry');
    if (verdict.allowed) return {};
    if (verdict.effect === 'deny') throw new LicenceRefusal(crate, version, verdict);
    return { warning: `${crate}@${version}: ${verdict.reason}` };
  }
}
