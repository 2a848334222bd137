// One source's licence rule (local publishes, or one upstream) applied to what a version declares:
// its `license` expression, or only a `license-file`, or nothing. The last two are decisions of
// the rule (`licence_file`, `licence_missing`: allow, warn or deny), since neither can be matched
// against SPDX lists; an expression that breaks the lists, or is not valid SPDX, is denied.
// The reasons are sentences for the person running cargo: they name the licence and the rule.

import { judgeLicenceExpression, parseLicenceExpression, type LicenceLists } from './licence-expression.js';
import { RegistryError } from './errors.js';

export type LicenceDecision = 'allow' | 'warn' | 'deny';

export interface LicencePolicy extends LicenceLists {
  /** A version with a `license-file` and no `license` expression. */
  licenceFile: LicenceDecision;
  /** A version with neither. */
  missing: LicenceDecision;
}

/** What a version says about its licence (Cargo.toml's `license` and `license-file`). */
export interface DeclaredLicence {
  license?: string | null;
  licenseFile?: string | null;
}

/** What a parsed Cargo.toml declares (`[package] license` and `license-file`). */
export function declaredLicenceOf(manifest: Record<string, unknown>): DeclaredLicence {
  const pkg = manifest.package;
  const field = (key: string) => {
    const value = typeof pkg === 'object' && pkg !== null ? (pkg as Record<string, unknown>)[key] : undefined;
    return typeof value === 'string' ? value : null;
  };
  return { license: field('license'), licenseFile: field('license-file') };
}

export type LicenceVerdict = { allowed: true } | { allowed: false; effect: 'warn' | 'deny'; licence: string; reason: string };

function describeLists(policy: LicencePolicy): string {
  const parts: string[] = [];
  if (policy.allow.length > 0) parts.push(`allowed are ${policy.allow.join(', ')}`);
  if (policy.deny.length > 0) parts.push(`denied are ${policy.deny.join(', ')}`);
  return parts.join('; ');
}

/**
 * Judges what a version declares. `where` names the place whose rule it is ("this registry",
 * "upstream `crates-io`"). An expression that is not valid SPDX is refused (it cannot be shown
 * to satisfy anything).
 */
export function judgeDeclaredLicence(declared: DeclaredLicence, policy: LicencePolicy, where: string): LicenceVerdict {
  const text = declared.license?.trim();
  if (text) {
    let expression;
    try {
      expression = parseLicenceExpression(text);
    } catch (error) {
      if (!(error instanceof RegistryError)) throw error;
      return {
        allowed: false,
        effect: 'deny',
        licence: text,
        reason: `${error.message}, so the licence rule of ${where} cannot accept it`,
      };
    }
    const judgement = judgeLicenceExpression(expression, policy);
    if (judgement.allowed) return judgement;
    // "(`X` is not allowed)" after "licence `X` is not allowed" would only repeat it.
    const detail = judgement.reason === `\`${text}\` is not allowed` ? '' : ` (${judgement.reason})`;
    return {
      allowed: false,
      effect: 'deny',
      licence: text,
      reason: `licence \`${text}\` is not allowed in ${where}${detail}: ${describeLists(policy)}`,
    };
  }
  const file = declared.licenseFile?.trim();
  if (file) {
    if (policy.licenceFile === 'allow') return { allowed: true };
    return {
      allowed: false,
      effect: policy.licenceFile,
      licence: `license-file ${file}`,
      reason:
        `only a licence file (\`${file}\`) is declared, without an SPDX \`license\` expression, and ${where} ${policy.licenceFile === 'warn' ? 'warns about' : 'refuses'} that ` +
        `(licence_file = "${policy.licenceFile}"); declare \`license\` in Cargo.toml (${describeLists(policy) || 'any SPDX expression'})`,
    };
  }
  if (policy.missing === 'allow') return { allowed: true };
  return {
    allowed: false,
    effect: policy.missing,
    licence: 'none',
    reason:
      `no licence is declared, and ${where} ${policy.missing === 'warn' ? 'asks for' : 'requires'} one (licence_missing = "${policy.missing}"); declare \`license\` in Cargo.toml ` +
      `(${describeLists(policy) || 'any SPDX expression'})`,
  };
}

/** The refusal of a local publish whose licence breaks the registry's rule (audited as `policy-refused`). */
export class LicenceRefusal extends RegistryError {
  constructor(
    readonly crate: string,
    readonly version: string,
    verdict: Extract<LicenceVerdict, { allowed: false }>,
  ) {
    super('invalid', 'licence-refused', `${crate}@${version} cannot be published: ${verdict.reason}`);
  }
}
