// `[source.crates-io] replace-with = "NAME"`: every crates.io dependency is then fetched from NAME,
// which must serve exactly crates.io's crates (a cratekeeper mirror, /mirrors/<upstream>/index/).
// NAME may be a `[registries.NAME]` (whose credential settings apply) or a `[source.NAME]` with a
// `registry` URL, which gets credentials only through a `[registries]` entry with the same index.

import type { CargoConfig } from './cargo-config.js';
import { error, ok, warning, type Finding } from './finding.js';
import { tomlFix } from './fix-text.js';

export function checkSourceReplacement(config: CargoConfig): Finding[] {
  const replace = config.string(['source', 'crates-io', 'replace-with']);
  if (!replace) return [];
  const target = replace.value;
  const check = 'source-replacement';
  const registryIndex = config.string(['registries', target, 'index']);
  const sourceIndex = config.string(['source', target, 'registry']);
  const explained = `crates.io is replaced by \`${target}\` (${replace.source}): every crates.io dependency is fetched from it, and \`cargo publish\`, \`login\` and \`yank\` need \`--registry ${target}\``;
  if (registryIndex) {
    if (!registryIndex.value.includes('/mirrors/')) {
      return [
        warning(
          check,
          `${explained}; but its index ${registryIndex.value} is not a mirror index (/mirrors/<upstream>/index/), so crates.io crates will not be found there`,
          `point replace-with at a registry whose index is the mirror, e.g. ${tomlFix(config, ['registries', `${target}-mirror`], 'index = "sparse+https://registry.example.com/mirrors/crates-io/index/"')}`,
          target,
        ),
      ];
    }
    return [ok(check, explained, target)];
  }
  if (sourceIndex) {
    const named = config.registryNames().find((n) => config.string(['registries', n, 'index'])?.value === sourceIndex.value);
    if (named === undefined) {
      return [
        warning(
          check,
          `${explained}; [source.${target}] has no [registries] entry with the same index, so cargo finds no credential settings for it`,
          `declare it as a registry instead: ${tomlFix(config, ['registries', target], `index = "${sourceIndex.value}"`)} with credential-provider = "cargo:token", and remove [source.${target}]`,
          target,
        ),
      ];
    }
    return [ok(check, `${explained}; its credentials come from [registries.${named}]`, target)];
  }
  return [
    error(
      check,
      `replace-with = "${target}" (${replace.source}), but there is no [registries.${target}] or [source.${target}]: cargo fails on every crates.io dependency`,
      tomlFix(config, ['registries', target], 'index = "sparse+https://registry.example.com/mirrors/crates-io/index/"', replace),
      target,
    ),
  ];
}
