// The certificates cargo trusts: `http.cainfo` (or CARGO_HTTP_CAINFO) replaces the system's list
// when set, a relative path being relative to the folder holding the `.cargo` that set it (the cwd
// for the variable). A certificate error names the setting to use.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CargoConfig } from './cargo-config.js';
import { error, type Finding } from './finding.js';
import { settingFix } from './fix-text.js';

export type TrustChoice = { ca?: string; cainfo?: string; source?: string } | { finding: Finding };

export function chooseTrust(config: CargoConfig, name: string): TrustChoice {
  const cainfo = config.string(['http', 'cainfo']);
  if (!cainfo) return {};
  const path = resolve(cainfo.root, cainfo.value);
  try {
    return { ca: readFileSync(path, 'utf8'), cainfo: path, source: cainfo.source };
  } catch (failure) {
    return {
      finding: error(
        'tls',
        `http.cainfo = "${cainfo.value}" (${cainfo.source}) cannot be read: ${(failure as Error).message}`,
        settingFix(config, ['http', 'cainfo'], '/absolute/path/to/ca.pem', cainfo),
        name,
      ),
    };
  }
}

export function untrustedFinding(config: CargoConfig, name: string, host: string, detail: string, cainfo: string | undefined): Finding {
  const current = config.string(['http', 'cainfo']);
  const what = cainfo
    ? `the certificate of ${host} is not signed by a CA in http.cainfo (${cainfo})`
    : `the certificate of ${host} is not trusted by the system's CA list`;
  return error(
    'tls',
    `${what} (${detail})`,
    `${settingFix(config, ['http', 'cainfo'], '/path/to/your-registry-ca.pem', current)}, or export CARGO_HTTP_CAINFO=/path/to/your-registry-ca.pem`,
    name,
  );
}
