// `policy check Cargo.lock`: a CI gate before a build starts. Sends the lockfile's registry
// packages to the registry's `POST /api/v1/policy/check` and prints, for each one the registry
// serves, whether its supply-chain policy denies it (quarantined, held, affected by an advisory,
// refused by a licence rule) or warns about it; the exit code is 1 when any is denied.
//
// Under source replacement (`[source.crates-io] replace-with = "company"`) a Cargo.lock names the
// original source, not the registry that serves it. The registry maps crates.io's source to its
// upstream of crates.io by itself; `replacements` says which of its indexes replaces any other
// source (as the `[source]` tables of .cargo/config.toml do). Packages the registry does not
// serve are counted in the last lines, never silently: a gate that checked nothing must say so.

import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';

export interface PolicyCheckOptions {
  /** The registry's base URL (its public URL), e.g. https://crates.example.com. */
  registry: string;
  token: string | undefined;
  /** Lockfile source → the registry's index that replaces it (`sparse+https://crates.example.com/mirrors/crates-io/index/`). */
  replacements?: ReadonlyMap<string, string>;
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

/**
 * Parses a `--replace` value, `<source>=<index>`: the source as a Cargo.lock names it
 * (`registry+...` or `sparse+...`) and the registry's sparse index that replaces it.
 */
export function parseReplacement(text: string): [string, string] {
  const at = text.indexOf('=sparse+');
  const from = at === -1 ? '' : text.slice(0, at);
  if (!/^(registry|sparse)\+\S+$/.test(from) || !/^sparse\+https?:\/\/\S+$/.test(text.slice(at + 1))) {
    throw new PolicyCheckError(
      `--replace ${text}: expected <source>=<index>, the source as Cargo.lock names it and this registry's index, e.g. ` +
        'registry+https://github.com/rust-lang/crates.io-index=sparse+https://crates.example.com/mirrors/crates-io/index/',
    );
  }
  return [from, text.slice(at + 1)];
}

/** Runs the check; returns the lines to print and the exit code (1: something is denied). */
export async function policyCheck(lockfile: string, options: PolicyCheckOptions): Promise<{ lines: string[]; exitCode: number }> {
  let text: string;
  try {
    text = readFileSync(lockfile, 'utf8');
  } catch (error) {
    throw new PolicyCheckError(`cannot read ${lockfile}: ${(error as Error).message}`);
  }
  const locked = lockedRegistryPackages(text, lockfile);
  const packages = locked.map((p) => ({ ...p, source: options.replacements?.get(p.source) ?? p.source }));
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
  const elsewhere = [...new Set(answer.packages.flatMap((p, i) => (p.status === 'not-served' ? [locked[i]!.source] : [])))];
  if (elsewhere.length > 0) {
    lines.push(
      `${answer.packages.length - served} package(s) from other sources were not checked: ${elsewhere.join(', ')} ` +
        '(if this registry replaces one of them, say so with --replace <source>=<index>)',
    );
  }
  lines.push(
    answer.denied > 0
      ? `${answer.denied} of ${served} package(s) from this registry are denied by its policy`
      : `${served} package(s) from this registry, none denied`,
  );
  return { lines, exitCode: answer.denied > 0 ? 1 : 0 };
}
