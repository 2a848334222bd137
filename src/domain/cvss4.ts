// The CVSS v4.0 base score (CVSS-B) of a vector string (`CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N`
// is 9.3). v4.0 has no formula: FIRST's specification scores a vector through its macro vector, a
// lookup table and an interpolation, which `ae-cvss-calculator` (metaeffekt, Apache-2.0) implements
// and keeps up with. It is lenient (a vector missing base metrics scores as if they were `X`), so
// the vector is checked here first, metric by metric, against the specification's values.
//
// Threat, environmental and supplemental metrics are allowed but left out of the score, as for
// CVSS 3: a policy minimum compares base scores. That is also the conservative reading: `E:U`
// ("no known exploit") can only lower a score.

import cvssCalculator from 'ae-cvss-calculator';
import { invalid } from './errors.js';

const { Cvss4P0 } = cvssCalculator;

const IMPACT = ['H', 'L', 'N'];
const BASE: Record<string, readonly string[]> = {
  AV: ['N', 'A', 'L', 'P'],
  AC: ['L', 'H'],
  AT: ['N', 'P'],
  PR: ['N', 'L', 'H'],
  UI: ['N', 'P', 'A'],
  VC: IMPACT,
  VI: IMPACT,
  VA: IMPACT,
  SC: IMPACT,
  SI: IMPACT,
  SA: IMPACT,
};
const withX = (values: readonly string[]) => ['X', ...values];
/** Threat, environmental and supplemental metrics (specification sections 3 to 5). */
const OTHER: Record<string, readonly string[]> = {
  E: withX(['A', 'P', 'U']),
  CR: withX(['H', 'M', 'L']),
  IR: withX(['H', 'M', 'L']),
  AR: withX(['H', 'M', 'L']),
  MAV: withX(BASE.AV!),
  MAC: withX(BASE.AC!),
  MAT: withX(BASE.AT!),
  MPR: withX(BASE.PR!),
  MUI: withX(BASE.UI!),
  MVC: withX(IMPACT),
  MVI: withX(IMPACT),
  MVA: withX(IMPACT),
  MSC: withX(IMPACT),
  MSI: withX(['S', ...IMPACT]),
  MSA: withX(['S', ...IMPACT]),
  S: withX(['N', 'P']),
  AU: withX(['N', 'Y']),
  R: withX(['A', 'U', 'I']),
  V: withX(['D', 'C']),
  RE: withX(['L', 'M', 'H']),
  U: withX(['Clear', 'Green', 'Amber', 'Red']),
};

/** The base score (0.0 to 10.0, one decimal) of a CVSS:4.0 vector; throws `invalid-cvss`. */
export function cvss4BaseScore(vector: string): number {
  const bad = (why: string) => invalid('invalid-cvss', `\`${vector.slice(0, 160)}\` is not a CVSS 4.0 vector: ${why}`);
  const [prefix, ...parts] = vector.split('/');
  if (prefix !== 'CVSS:4.0') throw bad('it must start with CVSS:4.0/');
  const values = new Map<string, string>();
  for (const part of parts) {
    const [metric, value, extra] = part.split(':');
    if (metric === undefined || value === undefined || extra !== undefined || value === '') throw bad(`\`${part}\` is not METRIC:VALUE`);
    if (values.has(metric)) throw bad(`${metric} is given twice`);
    const allowed = BASE[metric] ?? OTHER[metric];
    if (allowed === undefined) throw bad(`${metric} is not a CVSS 4.0 metric`);
    if (!allowed.includes(value)) throw bad(`${metric}:${value} is not a value of ${metric}`);
    values.set(metric, value);
  }
  const base = Object.keys(BASE).map((metric) => {
    const value = values.get(metric);
    if (value === undefined) throw bad(`the base metric ${metric} is missing`);
    return `${metric}:${value}`;
  });
  const score = new Cvss4P0(`CVSS:4.0/${base.join('/')}`).calculateScores().base;
  if (typeof score !== 'number' || !(score >= 0 && score <= 10)) throw bad(`the calculator gave no score (${String(score)})`);
  return Math.round(score * 10) / 10;
}
