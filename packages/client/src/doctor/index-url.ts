// The `[registries.NAME]` entry and its index URL. cargo reads a URL without `sparse+` as a git
// index, and a sparse URL must end in `/` (files are fetched at the URL plus their path).

import type { CargoConfig, Defined } from './cargo-config.js';
import { error, ok, type Finding } from './finding.js';
import { settingFix, tomlFix } from './fix-text.js';

export interface IndexUrlCheck {
  findings: Finding[];
  /** The index's base URL (without `sparse+`, ending in `/`) when cargo can use it as a sparse index. */
  base?: URL;
  index?: Defined<string>;
}

/** What the URL should have been: `sparse+` and a trailing slash, `.git` and `/info/refs` dropped. */
function suggestedIndex(raw: string): string | undefined {
  const bare = raw.replace(/^(sparse|registry)\+/, '');
  let url: URL;
  try {
    url = new URL(bare);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  const path = url.pathname.replace(/\.git\/?$/, '/').replace(/\/?$/, '/');
  return `sparse+${url.origin}${path === '/' ? '/index/' : path}`;
}

export function checkIndexUrl(config: CargoConfig, name: string): IndexUrlCheck {
  const path = ['registries', name, 'index'];
  const index = config.string(path);
  if (!index) {
    return {
      findings: [
        error(
          'index',
          `no [registries.${name}] entry with an index in cargo's configuration (${config.configFiles.join(', ') || 'no config files found'})`,
          tomlFix(config, ['registries', name], 'index = "sparse+https://registry.example.com/index/"'),
          name,
        ),
      ],
    };
  }
  const raw = index.value;
  const suggestion = suggestedIndex(raw);
  const fix = suggestion === undefined ? undefined : settingFix(config, path, suggestion, index);
  const from = `(${index.source})`;
  if (!raw.startsWith('sparse+')) {
    const why = /^(git|ssh):|\.git\/?$|^registry\+/.test(raw) ? 'a git index' : 'a git index, because it does not start with `sparse+`';
    return {
      index,
      findings: [error('index', `index = "${raw}" ${from} is ${why}; cratekeeper serves a sparse index`, fix, name)],
    };
  }
  let url: URL;
  try {
    url = new URL(raw.slice('sparse+'.length));
  } catch {
    return { index, findings: [error('index', `index = "${raw}" ${from} is not a URL`, fix, name)] };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { index, findings: [error('index', `index = "${raw}" ${from} must be http(s)`, fix, name)] };
  }
  if (!url.pathname.endsWith('/')) {
    return {
      index,
      findings: [
        error('index', `index = "${raw}" ${from} must end in \`/\` (cargo: "sparse registry url must end in a slash")`, fix, name),
      ],
    };
  }
  if (url.username || url.password) {
    return { index, findings: [error('index', `index = "${raw}" ${from} holds credentials; cargo refuses them`, fix, name)] };
  }
  return { index, base: url, findings: [ok('index', `sparse index ${raw} ${from}`, name)] };
}
