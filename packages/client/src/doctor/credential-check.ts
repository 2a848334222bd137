// Findings about how cargo gets a token for a registry: whether any credential provider is
// configured (cargo refuses an authenticated registry otherwise, and CARGO_REGISTRIES_NAME_TOKEN
// alone does not change that), whether the providers' programs exist, whether a token configured
// for `cargo:token` is ignored, and whether any provider has a token at all.

import type { CargoConfig } from './cargo-config.js';
import { envKey } from './cargo-config.js';
import { findProgram, planProviders, programOf, type ProviderPlan } from './credential-providers.js';
import { error, ok, warning, type Finding } from './finding.js';
import { tomlFix } from './fix-text.js';
import { lookUpToken, type TokenLookup } from './token-lookup.js';

export interface CredentialCheck {
  findings: Finding[];
  plan: ProviderPlan;
  token?: string;
}

const describe = (argv: string[]) => argv.join(' ');

function providerFindings(config: CargoConfig, name: string, plan: ProviderPlan, authRequired: boolean): Finding[] {
  const check = 'credential-provider';
  const index = config.value(['registries', name, 'index']);
  const token = config.value(['registries', name, 'token']);
  const findings: Finding[] = [];
  if (!plan.registrySpecific && !plan.globalDefined) {
    if (!authRequired) return [ok(check, 'none configured; the registry does not require authentication for reads', name)];
    const tokenNote = token ? ` (the token in ${token.source} is not enough: cargo needs \`cargo:token\` named explicitly to use it)` : '';
    return [
      error(
        check,
        `no credential provider for this registry and no registry.global-credential-providers: cargo refuses an authenticated registry ("authenticated registries require a credential-provider to be configured")${tokenNote}`,
        `${tomlFix(config, ['registries', name], 'credential-provider = "cargo:token"', index)}, or export ${envKey(['registries', name, 'credential-provider'])}=cargo:token`,
        name,
      ),
    ];
  }
  const names = plan.providers.map((p) => `\`${describe(p.argv)}\``).join(', then ');
  findings.push(ok(check, `cargo asks ${names} (${plan.providers[0]!.source})`, name));
  if (token && !plan.providers.some((p) => p.argv[0] === 'cargo:token')) {
    findings.push(
      warning(
        check,
        `the token in ${token.source} is ignored: \`cargo:token\` is not among this registry's credential providers`,
        plan.registrySpecific
          ? `remove the token, or ${tomlFix(config, ['registries', name], 'credential-provider = "cargo:token"', index)}`
          : `remove the token, or add "cargo:token" to registry.global-credential-providers`,
        name,
      ),
    );
  }
  for (const provider of plan.providers) {
    const program = programOf(provider);
    if (program === undefined || findProgram(program, config.env) !== undefined) continue;
    findings.push(
      error(
        check,
        `the credential provider program \`${program}\` (${provider.source}) is not ${program.includes('/') ? 'an executable file' : 'on PATH'}; cargo cannot run it`,
        `install it, or give its absolute path (\`command -v ${program.split('/').pop()}\`) in credential-provider`,
        name,
      ),
    );
  }
  return findings;
}

function tokenFinding(config: CargoConfig, name: string, lookup: TokenLookup, authRequired: boolean): Finding {
  if (lookup.kind === 'found') return ok('token', `cargo gets a token from ${lookup.where}`, name);
  if (lookup.kind === 'failed') {
    return error('token', `the credential provider \`${describe(lookup.provider.argv)}\` failed: ${lookup.message}`, undefined, name);
  }
  const skipped = lookup.skipped.length > 0 ? `; not checked: ${lookup.skipped.join(', ')}` : '';
  const usesCargoToken = lookup.asked.some((p) => p.argv[0] === 'cargo:token');
  const where = usesCargoToken ? ` (cargo:token stores it in ${config.cargoHome}/credentials.toml)` : '';
  const make = authRequired ? error : warning;
  return make(
    'token',
    `no token stored for this registry: ${lookup.asked.map((p) => `\`${describe(p.argv)}\``).join(', ')} found none${skipped}`,
    `\`cargo login --registry ${name}\` and paste a token from the registry's /me page${where}`,
    name,
  );
}

export async function checkCredentials(
  config: CargoConfig,
  name: string,
  indexUrl: string,
  authRequired: boolean,
): Promise<CredentialCheck> {
  const plan = planProviders(config, name);
  const findings = providerFindings(config, name, plan, authRequired);
  if (findings.some((f) => f.status === 'error')) return { findings, plan };
  const lookup = await lookUpToken(config, name, indexUrl, plan.providers);
  findings.push(tokenFinding(config, name, lookup, authRequired));
  return { findings, plan, token: lookup.kind === 'found' ? lookup.token : undefined };
}
