// The CVSS base score of a vector string, so that an advisory's severity can be compared with a
// policy's minimum without trusting a stored number: CVSS 3.0 and 3.1 with the formula of the FIRST
// specification (sections 7.1 and 7.4; `CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H` is 9.8), CVSS
// 4.0 through its macro vectors (cvss4.ts).

import { cvss4BaseScore } from './cvss4.js';
import { invalid, RegistryError } from './errors.js';

const WEIGHTS = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  PR: { N: 0.85, L: 0.62, H: 0.27 },
  UI: { N: 0.85, R: 0.62 },
  S: { U: 0, C: 0 },
  C: { H: 0.56, L: 0.22, N: 0 },
  I: { H: 0.56, L: 0.22, N: 0 },
  A: { H: 0.56, L: 0.22, N: 0 },
} as const;

type BaseMetric = keyof typeof WEIGHTS;
const BASE_METRICS = Object.keys(WEIGHTS) as BaseMetric[];
/** Temporal and environmental metrics: allowed in a vector, not part of the base score. */
const OTHER_METRICS = new Set(['E', 'RL', 'RC', 'CR', 'IR', 'AR', 'MAV', 'MAC', 'MPR', 'MUI', 'MS', 'MC', 'MI', 'MA']);

/** The base score (0.0 to 10.0, one decimal) of a CVSS:3.0, 3.1 or 4.0 vector; throws `invalid-cvss`. */
export function cvssBaseScore(vector: string): number {
  const prefix = vector.split('/', 1)[0];
  if (prefix === 'CVSS:4.0') return cvss4BaseScore(vector);
  if (prefix === 'CVSS:3.0' || prefix === 'CVSS:3.1') return cvss3BaseScore(vector);
  throw invalid('invalid-cvss', `\`${vector.slice(0, 120)}\` is not a CVSS vector: it must start with CVSS:3.0/, CVSS:3.1/ or CVSS:4.0/`);
}

/** The base score of `vector`, or undefined when it has none (`cvssProblem` says why). */
export function tryCvssBaseScore(vector: string): number | undefined {
  const outcome = scoreOrProblem(vector);
  return 'score' in outcome ? outcome.score : undefined;
}

/** Why `vector` has no base score (the `invalid-cvss` message), or undefined when it has one. */
export function cvssProblem(vector: string): string | undefined {
  const outcome = scoreOrProblem(vector);
  return 'problem' in outcome ? outcome.problem : undefined;
}

function scoreOrProblem(vector: string): { score: number } | { problem: string } {
  try {
    return { score: cvssBaseScore(vector) };
  } catch (error) {
    if (error instanceof RegistryError) return { problem: error.message };
    throw error;
  }
}

function cvss3BaseScore(vector: string): number {
  const bad = (why: string) => invalid('invalid-cvss', `\`${vector.slice(0, 120)}\` is not a CVSS 3 vector: ${why}`);
  const [, ...parts] = vector.split('/');
  const values = new Map<string, string>();
  for (const part of parts) {
    const [metric, value, extra] = part.split(':');
    if (metric === undefined || value === undefined || extra !== undefined || value === '') throw bad(`\`${part}\` is not METRIC:VALUE`);
    if (values.has(metric)) throw bad(`${metric} is given twice`);
    if (!(metric in WEIGHTS) && !OTHER_METRICS.has(metric)) throw bad(`${metric} is not a CVSS 3 metric`);
    values.set(metric, value);
  }
  const weight = (metric: BaseMetric): number => {
    const value = values.get(metric);
    if (value === undefined) throw bad(`the base metric ${metric} is missing`);
    const table: Record<string, number> = WEIGHTS[metric];
    const w = table[value];
    if (w === undefined) throw bad(`${metric}:${value} is not a value of ${metric}`);
    return w;
  };
  for (const metric of BASE_METRICS) weight(metric);
  const changed = values.get('S') === 'C';
  const privileges = { N: 0.85, L: changed ? 0.68 : 0.62, H: changed ? 0.5 : 0.27 }[values.get('PR') as 'N' | 'L' | 'H'];

  const iss = 1 - (1 - weight('C')) * (1 - weight('I')) * (1 - weight('A'));
  const impact = changed ? 7.52 * (iss - 0.029) - 3.25 * Math.pow(iss - 0.02, 15) : 6.42 * iss;
  const exploitability = 8.22 * weight('AV') * weight('AC') * privileges * weight('UI');
  if (impact <= 0) return 0;
  return roundUp(Math.min((changed ? 1.08 : 1) * (impact + exploitability), 10));
}

/** The smallest number with one decimal that is >= `value`, as CVSS 3.1 Appendix A writes it (free of float noise). */
function roundUp(value: number): number {
  const scaled = Math.round(value * 100_000);
  return scaled % 10_000 === 0 ? scaled / 100_000 : (Math.floor(scaled / 10_000) + 1) / 10;
}

/** A score's qualitative rating (CVSS 3.x table 14; CVSS 4.0 uses the same bands). */
export function cvssSeverity(score: number): 'none' | 'low' | 'medium' | 'high' | 'critical' {
  if (score === 0) return 'none';
  if (score < 4) return 'low';
  if (score < 7) return 'medium';
  if (score < 9) return 'high';
  return 'critical';
}
