// `policy check Cargo.lock`: a CI gate before a build starts. Sends the lockfile's registry
// packages to the registry's `POST /api/v1/policy/check` and prints, for each one the registry
// serves, whether its supply-chain policy denies it (quarantined, held, affected by an advisory,
// refused by a licence rule) or warns about it; the exit code is 1 when any is denied.

import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';

export interface PolicyCheckOptions {
  /** The registry's base URL (its public URL), e.g. https://crates.example.com. */
  registry: string;
  token: string | undefined;
  fetch?: typeof fetch;
}

interface CheckedPackage {
  name: string;
  version: string;
  status: 'ok' | 'warned' | 'denied' | 'unknown' | 'not-served';
  served_from?: string;
  findings: { rule: string; effect: string; detail: string }[];
}

export class PolicyCheckError extends Error {}

/** The lockfile's packages from a registry (`registry+` or `sparse+` sources). */
export function lockedRegistryPackages(text: string, file: string): { name: string; version: string; source: string }[] {
  let doc: { package?: unknown };
  try {
    doc = parseToml(text) as { package?: unknown };
  } catch (error) {
    throw new PolicyCheckError(`${file} is not valid TOML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!Array.isArray(doc.package)) throw new PolicyCheckError(`${file} has no [[package]] entries`);
  return (doc.package as Record<string, unknown>[]).flatMap((p) =>
    typeof p.name === 'string' && typeof p.version === 'string' && typeof p.source === 'string' && /^(registry|sparse)\+/.test(p.source)
      ? [{ name: p.name, version: p.version, source: p.source }]
      : [],
  );
}

/** Runs the check; returns the lines to print and the exit code (1: something is denied). */
export async function policyCheck(lockfile: string, options: PolicyCheckOptions): Promise<{ lines: string[]; exitCode: number }> {
  let text: string;
  try {
    text = readFileSync(lockfile, 'utf8');
  } catch (error) {
    throw new PolicyCheckError(`cannot read ${lockfile}: ${(error as Error).message}`);
  }
  const packages = lockedRegistryPackages(text, lockfile);
  const url = `${options.registry.replace(/\/+$/, '')}/api/v1/policy/check`;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.token) headers.authorization = options.token;
  const response = await (options.fetch ?? fetch)(url, { method: 'POST', headers, body: JSON.stringify({ packages }) });
  const body = await response.text();
  if (!response.ok) {
    let detail = body.slice(0, 500);
    try {
      detail = (JSON.parse(body) as { errors: { detail: string }[] }).errors.map((e) => e.detail).join('; ');
    } catch {
      // not cargo's error shape: show the text
    }
    throw new PolicyCheckError(`${url} answered ${response.status}: ${detail}`);
  }
  const answer = JSON.parse(body) as { packages: CheckedPackage[]; denied: number };
  const lines: string[] = [];
  for (const p of answer.packages) {
    if (p.status === 'not-served') continue;
    const from = p.served_from === undefined ? '' : ` (${p.served_from})`;
    if (p.status === 'unknown') lines.push(`${p.name} ${p.version}: unknown (no such version here, or not readable with this token)`);
    else if (p.status === 'ok') lines.push(`${p.name} ${p.version}${from}: ok`);
    else
      for (const f of p.findings)
        lines.push(`${p.name} ${p.version}${from}: ${f.effect === 'deny' ? 'DENIED' : 'warning'} (${f.rule}): ${f.detail}`);
  }
  const served = answer.packages.filter((p) => p.status !== 'not-served').length;
  lines.push(
    answer.denied > 0
      ? `${answer.denied} of ${served} package(s) from this registry are denied by its policy`
      : `${served} package(s) from this registry, none denied`,
  );
  return { lines, exitCode: answer.denied > 0 ? 1 : 0 };
}
