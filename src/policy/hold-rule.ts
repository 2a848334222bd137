// Holds: an administrator holds back a whole crate, or one version, indefinitely (until removed),
// for local and mirrored crates alike. Stored as exceptions (policy-state.ts).

import type { PolicyState } from './policy-state.js';
import type { PolicyFinding, PolicyRule, PolicySource, VersionUnderReview } from './version-rule.js';

export class HoldRule implements PolicyRule {
  readonly name = 'hold' as const;

  constructor(private readonly state: Pick<PolicyState, 'holdsOn' | 'exceptionsRevision'>) {}

  revision(): string {
    return this.state.exceptionsRevision();
  }

  mayApply(source: PolicySource, crate: string): boolean {
    return this.state.holdsOn(source, crate).length > 0;
  }

  review(source: PolicySource, crate: string, versions: readonly VersionUnderReview[]): Promise<Map<string, PolicyFinding[]>> {
    const findings = new Map<string, PolicyFinding[]>();
    const holds = this.state.holdsOn(source, crate);
    if (holds.length === 0) return Promise.resolve(findings);
    for (const version of versions) {
      for (const hold of holds) {
        if (hold.version !== null && hold.version !== version.vers) continue;
        const what = hold.version === null ? `every version of \`${version.name}\`` : `${version.name}@${version.vers}`;
        const finding: PolicyFinding = {
          rule: 'hold',
          effect: 'deny',
          detail: `${version.name}@${version.vers} is held back: an administrator holds ${what} (${hold.reason})`,
          facts: { held_by: hold.createdBy ?? '', held_at: hold.createdAt, reason: hold.reason },
        };
        findings.set(version.vers, [...(findings.get(version.vers) ?? []), finding]);
      }
    }
    return Promise.resolve(findings);
  }
}
