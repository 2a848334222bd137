// Prints doctor's findings, one line each: status, the registry, the check, what is wrong, and
// the fix; and decides the exit code (1 when any finding is an error).

import type { Finding } from './finding.js';

const LABEL = { ok: 'ok     ', warning: 'warning', error: 'error  ' } as const;

export function formatFinding(finding: Finding): string {
  const where = finding.registry === undefined ? '' : `[${finding.registry}] `;
  const fix = finding.fix === undefined ? '' : ` -> fix: ${finding.fix}`;
  return `${LABEL[finding.status]} ${where}${finding.check}: ${finding.message}${fix}`;
}

export function formatReport(findings: Finding[]): string {
  const errors = findings.filter((f) => f.status === 'error').length;
  const warnings = findings.filter((f) => f.status === 'warning').length;
  const summary =
    errors + warnings === 0
      ? 'all checks passed'
      : `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
  return [...findings.map(formatFinding), summary, ''].join('\n');
}

export function exitCodeOf(findings: Finding[]): number {
  return findings.some((f) => f.status === 'error') ? 1 : 0;
}
