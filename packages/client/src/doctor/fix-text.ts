// How doctor words a fix: a TOML line and the file it goes in, or the variable to export when the
// setting came from the environment.

import type { CargoConfig, Defined } from './cargo-config.js';
import { envKey } from './cargo-config.js';

/** `put `LINE` under [TABLE] in FILE` (FILE: where the setting was found, else $CARGO_HOME/config.toml). */
export function tomlFix(config: CargoConfig, table: string[], line: string, near?: Defined<unknown>): string {
  const file = near && !near.source.startsWith('environment variable') ? near.source : config.homeConfigFile;
  return `put \`${line}\` under [${table.join('.')}] in ${file}`;
}

/** A fix for a setting that may live in a file or in the environment: whichever holds it now. */
export function settingFix(config: CargoConfig, path: string[], value: string, current?: Defined<unknown>): string {
  if (current?.source.startsWith('environment variable')) return `export ${envKey(path)}="${value}"`;
  return tomlFix(config, path.slice(0, -1), `${path[path.length - 1]} = "${value}"`, current);
}
