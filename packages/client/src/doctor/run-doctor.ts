// `cratekeeper doctor`: reads cargo's configuration as cargo would for the project folder, then for
// each registry (or the one asked for) checks the entry, trust, proxy, credential provider and
// token, and asks the registry what cargo would ask. Findings come back in that order; a check
// that fails stops the ones that depend on it.

import { existsSync } from 'node:fs';
import { CargoConfig } from './cargo-config.js';
import { CargoConfigError } from './cargo-config-files.js';
import { checkCargoVersion, runCargoVersion } from './cargo-version.js';
import { checkCredentials } from './credential-check.js';
import { error, type Finding } from './finding.js';
import { tomlFix } from './fix-text.js';
import { checkIndexUrl } from './index-url.js';
import { crateFromLockfile } from './lockfile-crate.js';
import { chooseProxy, proxyFindings } from './proxy-settings.js';
import { checkFiles, checkScopes, checkToken, reachRegistry, type ProbeContext } from './registry-probe.js';
import { checkSourceReplacement } from './source-replacement.js';
import { chooseTrust } from './tls-trust.js';

export interface DoctorOptions {
  /** Only this registry (default: every registry cargo's configuration names). */
  registry?: string;
  /** The project folder whose .cargo/config.toml chain counts (default: the cwd). */
  project: string;
  env: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

async function checkRegistry(config: CargoConfig, name: string, timeoutMs: number | undefined): Promise<Finding[]> {
  const findings: Finding[] = [];
  const entry = checkIndexUrl(config, name);
  findings.push(...entry.findings);
  if (!entry.base) return findings;
  const base = entry.base;

  const trust = chooseTrust(config, name);
  if ('finding' in trust) return [...findings, trust.finding];
  const proxy = chooseProxy(config, base);
  findings.push(...proxyFindings(config, name, base, proxy));
  if (proxy.invalid !== undefined) return findings;

  const context: ProbeContext = {
    config,
    name,
    base,
    http: { ca: trust.ca, proxy: proxy.proxy, timeoutMs },
    cainfo: trust.cainfo,
    proxySource: proxy.source,
  };
  const reach = await reachRegistry(context);
  findings.push(...reach.findings);
  const reached = reach.authRequired !== undefined;
  // An unreachable registry is assumed to want a token, as every cratekeeper does.
  const authRequired = reach.authRequired ?? true;

  const credentials = await checkCredentials(config, name, `sparse+${base.href}`, authRequired);
  findings.push(...credentials.findings);
  if (!reached) return findings;

  let registryConfig = reach.config;
  const token = credentials.token;
  if (token !== undefined) {
    const verdict = await checkToken(context, token);
    findings.push(...verdict.findings);
    if (verdict.findings.some((f) => f.status === 'error')) return findings;
    registryConfig = verdict.config ?? registryConfig;
    if (registryConfig?.api !== undefined) findings.push(...(await checkScopes(context, registryConfig.api, token)));
  } else if (authRequired) return findings;

  if (registryConfig) findings.push(...(await checkFiles(context, registryConfig, token, crateFromLockfile(config.cwd, base))));
  return findings;
}

export async function runDoctor(options: DoctorOptions): Promise<Finding[]> {
  if (!existsSync(options.project)) {
    return [error('config', `the project folder ${options.project} does not exist`, 'pass an existing folder to --project')];
  }
  const findings: Finding[] = [checkCargoVersion(await runCargoVersion(options.project, options.env))];
  let config: CargoConfig;
  try {
    config = new CargoConfig({ cwd: options.project, env: options.env });
  } catch (failure) {
    if (!(failure instanceof CargoConfigError)) throw failure;
    return [...findings, error('config', failure.message, 'fix the file; cargo reports the same error')];
  }
  const names = options.registry !== undefined ? [options.registry] : config.registryNames();
  if (names.length === 0) {
    findings.push(
      error(
        'config',
        `cargo's configuration names no registry (read: ${config.configFiles.join(', ') || `no config file; $CARGO_HOME is ${config.cargoHome}`})`,
        tomlFix(config, ['registries', 'NAME'], 'index = "sparse+https://registry.example.com/index/"'),
      ),
    );
  }
  for (const name of names) findings.push(...(await checkRegistry(config, name, options.timeoutMs)));
  findings.push(...checkSourceReplacement(config));
  return findings;
}
