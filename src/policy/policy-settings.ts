// The policy settings of one source (local crates, or one upstream), as the rules read them: a typed
// record whose keys are all optional. Values are edited at run time (`cratekeeper policy set`, the
// admin API) and stored in the database as JSON text; `[[upstreams]] min_release_age` in the
// configuration file is the default when the database sets nothing. Each key has one parser here,
// so the CLI, the API and the stored rows agree on what a value may be. The advisory and licence
// rules read their keys through `PolicySettings.get(source)`.

import { duration } from '../config/fields.js';
import { invalid } from '../domain/errors.js';
import { parseLicenceListEntry } from '../domain/licence-expression.js';
import type { PolicySourceKey } from '../ports/policy-store.js';
import type { PolicySource } from './version-rule.js';

export type RuleEffect = 'deny' | 'warn' | 'off';
export type LicenceDecision = 'allow' | 'warn' | 'deny';

export interface SourcePolicy {
  /** Quarantine: versions younger than this (ms) are held back; absent or 0: off. */
  min_release_age?: number;
  advisories?: RuleEffect;
  /** Advisories with a lower CVSS score do not apply (0 to 10). */
  advisories_min_cvss?: number;
  /** Whether informational advisories (unmaintained, unsound) apply. */
  advisories_informational?: boolean;
  /** SPDX identifiers allowed (empty or absent: no allow-list). */
  licences_allow?: string[];
  licences_deny?: string[];
  /** What a `license-file` without an SPDX expression gets. */
  licence_file?: LicenceDecision;
  /** What a version without any licence gets. */
  licence_missing?: LicenceDecision;
}

export type PolicySettingKey = keyof SourcePolicy;

/** Reads the settings of a source; `revision()` changes whenever any stored setting does. */
export interface PolicySettings {
  get(source: PolicySource): SourcePolicy;
  revision(): string;
}

const MAX_AGE_MS = 365 * 86_400_000;
const durationValue = duration(0, MAX_AGE_MS);

const oneOf =
  <T extends string>(...values: T[]) =>
  (key: string, text: string): T => {
    if ((values as string[]).includes(text)) return text as T;
    throw invalid('invalid-policy-setting', `${key} must be one of ${values.join(', ')} (got \`${text}\`)`);
  };

const spdxList = (key: string, text: string): string[] => {
  const list = text.trim() === '' ? [] : text.split(',').map((s) => s.trim());
  // Single licences, each maybe with `+` or `WITH` an exception (licence-expression.ts).
  for (const id of list) {
    try {
      parseLicenceListEntry(id);
    } catch (error) {
      throw invalid('invalid-policy-setting', `${key}: ${(error as Error).message}`);
    }
  }
  return list;
};

/** How each key's text form (CLI, API) becomes its value. */
const PARSERS: { [K in PolicySettingKey]-?: (key: string, text: string) => NonNullable<SourcePolicy[K]> } = {
  min_release_age: (key, text) => {
    const parsed = durationValue.safeParse(text.trim() === '0' ? 0 : text);
    if (!parsed.success) {
      throw invalid('invalid-policy-setting', `${key} must be a duration such as "3d", "12h" or "0" for off, up to 365d (got \`${text}\`)`);
    }
    return parsed.data;
  },
  advisories: oneOf<RuleEffect>('deny', 'warn', 'off'),
  advisories_min_cvss: (key, text) => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n) || n < 0 || n > 10) {
      throw invalid('invalid-policy-setting', `${key} must be a CVSS score from 0 to 10 (got \`${text}\`)`);
    }
    return n;
  },
  advisories_informational: (key, text) => {
    if (text === 'true' || text === 'false') return text === 'true';
    throw invalid('invalid-policy-setting', `${key} must be true or false (got \`${text}\`)`);
  },
  licences_allow: spdxList,
  licences_deny: spdxList,
  licence_file: oneOf<LicenceDecision>('allow', 'warn', 'deny'),
  licence_missing: oneOf<LicenceDecision>('allow', 'warn', 'deny'),
};

export const POLICY_SETTING_KEYS = Object.keys(PARSERS) as PolicySettingKey[];

export function isPolicySettingKey(key: string): key is PolicySettingKey {
  return Object.hasOwn(PARSERS, key);
}

/** Parses a setting's text form (`3d`, `deny`, `MIT,Apache-2.0`); throws `invalid-policy-setting`. */
export function parsePolicySetting(key: string, text: string): SourcePolicy[PolicySettingKey] {
  if (!isPolicySettingKey(key)) {
    throw invalid('invalid-policy-setting', `unknown policy setting \`${key}\`; the settings are ${POLICY_SETTING_KEYS.join(', ')}`);
  }
  return PARSERS[key](key, text.trim());
}

/** A stored row's value, or undefined when it is not one this build understands (a newer build wrote it). */
export function storedPolicySetting(key: string, json: string): SourcePolicy[PolicySettingKey] | undefined {
  if (!isPolicySettingKey(key)) return undefined;
  try {
    const value: unknown = JSON.parse(json);
    const text = Array.isArray(value) ? value.join(',') : key === 'min_release_age' ? `${Number(value) / 1000}s` : String(value);
    return parsePolicySetting(key, text);
  } catch {
    return undefined;
  }
}

/** A value as people write it: durations in days, hours, minutes or seconds; lists comma-separated. */
export function formatPolicySetting(key: PolicySettingKey, value: unknown): string {
  if (key === 'min_release_age' && typeof value === 'number') return formatDuration(value);
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}

export const sourceKeyOf = (source: PolicySource): PolicySourceKey => (source.kind === 'local' ? 'local' : `upstream:${source.upstream}`);

export function sourceOfKey(key: PolicySourceKey): PolicySource | undefined {
  if (key === 'local') return { kind: 'local' };
  if (key.startsWith('upstream:')) return { kind: 'upstream', upstream: key.slice('upstream:'.length) };
  return undefined;
}

/** How a person names a source: `local`, or an upstream's name. */
export const sourceLabel = (source: PolicySource) => (source.kind === 'local' ? 'local' : source.upstream);
