// Which proxy cargo's HTTP client (libcurl) uses for a registry URL: `http.proxy` (or
// CARGO_HTTP_PROXY) first; else curl's variables: `https_proxy` / `HTTPS_PROXY` for https,
// only the lowercase `http_proxy` for http (curl ignores HTTP_PROXY), then `all_proxy` /
// `ALL_PROXY`. `no_proxy` / `NO_PROXY` lists hosts (and their subdomains) that go direct; `*`
// means every host. (cargo also falls back to git's `http.proxy`, which doctor does not read.)

import type { CargoConfig } from './cargo-config.js';
import { error, ok, warning, type Finding } from './finding.js';

export interface ProxyChoice {
  /** The proxy requests go through, as a URL (`http://` added when the setting has no scheme). */
  proxy?: URL;
  /** Where the proxy setting came from. */
  source?: string;
  /** A proxy was set but the host is excluded: the `no_proxy` entry that matched. */
  excludedBy?: string;
  /** The proxy setting when it could not be read as a URL. */
  invalid?: string;
}

function envValue(env: NodeJS.ProcessEnv, names: string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') return { name, value };
  }
  return undefined;
}

/** The `no_proxy` entry that sends `host` direct, if any (curl's rules: exact name or a domain suffix). */
export function noProxyMatch(noProxy: string, host: string): string | undefined {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  for (const raw of noProxy.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return entry;
    const name = entry
      .replace(/^\[(.*)\](:\d+)?$/, '$1')
      .replace(/^([^:]+):\d+$/, '$1')
      .replace(/^\./, '');
    if (bare === name || bare.endsWith(`.${name}`)) return entry;
  }
  return undefined;
}

export function chooseProxy(config: CargoConfig, target: URL): ProxyChoice {
  const configured = config.string(['http', 'proxy']);
  const fromEnv = envValue(
    config.env,
    target.protocol === 'https:' ? ['https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'] : ['http_proxy', 'all_proxy', 'ALL_PROXY'],
  );
  const setting = configured?.value
    ? {
        value: configured.value,
        source: configured.source === 'environment variable CARGO_HTTP_PROXY' ? configured.source : `http.proxy in ${configured.source}`,
      }
    : fromEnv && { value: fromEnv.value, source: `environment variable ${fromEnv.name}` };
  if (!setting) return {};
  const noProxy = envValue(config.env, ['no_proxy', 'NO_PROXY']);
  const excludedBy = noProxy && noProxyMatch(noProxy.value, target.hostname);
  if (excludedBy !== undefined) return { source: setting.source, excludedBy: `${noProxy!.name} entry \`${excludedBy}\`` };
  try {
    return {
      proxy: new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(setting.value) ? setting.value : `http://${setting.value}`),
      source: setting.source,
    };
  } catch {
    return { source: setting.source, invalid: setting.value };
  }
}

export function proxyFindings(config: CargoConfig, name: string, target: URL, choice: ProxyChoice): Finding[] {
  const host = target.host;
  if (choice.invalid !== undefined) {
    return [error('proxy', `${choice.source} = "${choice.invalid}" is not a proxy address`, 'use host:port or http://host:port', name)];
  }
  if (choice.excludedBy !== undefined)
    return [ok('proxy', `${choice.source} is set, but ${host} goes direct (${choice.excludedBy})`, name)];
  if (choice.proxy) return [ok('proxy', `requests to ${host} go through the proxy ${choice.proxy.host} (${choice.source})`, name)];
  if (target.protocol === 'http:' && config.env.HTTP_PROXY && !config.env.http_proxy) {
    return [
      warning(
        'proxy',
        `HTTP_PROXY is set, but cargo's HTTP client ignores the uppercase form for http:// URLs: ${host} goes direct`,
        `export http_proxy="${config.env.HTTP_PROXY}" or set http.proxy in ${config.homeConfigFile}, if the proxy is needed`,
        name,
      ),
    ];
  }
  return [ok('proxy', `no proxy set: ${host} is reached directly`, name)];
}
