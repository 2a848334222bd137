// Wires the supply-chain policy: its state (settings and exceptions from the database, with the
// configuration file's defaults), the rules, and the engine that applies them. Each rule is one
// line in `rules` below; the engine asks them in this order.

import type { Config } from '../config/schema.js';
import type { Advisories } from '../ports/advisories.js';
import type { PolicyStore } from '../ports/policy-store.js';
import { AdvisoryRule } from './advisory-rule.js';
import type { AuditRecorder } from '../services/audit-recorder.js';
import { FirstSightings } from './first-sightings.js';
import { HoldRule } from './hold-rule.js';
import { LicenceRule, type UpstreamLicenceFacts } from './licence-rule.js';
import { PolicyAdmin } from './policy-admin.js';
import { PolicyEngine } from './policy-engine.js';
import type { SourcePolicy } from './policy-settings.js';
import { PolicyState } from './policy-state.js';
import { QuarantineRule } from './quarantine-rule.js';
import type { PolicyRule, PolicySource } from './version-rule.js';

export interface Policy {
  state: PolicyState;
  engine: PolicyEngine;
  /** Settings, holds and releases as administrators change them (CLI, admin API, admin page). */
  admin: PolicyAdmin;
  /** The advisory rule, for its reload on a sync and the advisories of a crate (pages, API). */
  advisories: AdvisoryRule;
  /** Also judges local publishes (PublishService). */
  licences: LicenceRule;
}

/** The configuration file's policy settings of a source: the defaults under what the database sets. */
export function configuredPolicy(config: Config): (source: PolicySource) => SourcePolicy {
  return (source) => {
    if (source.kind === 'local') return {};
    const upstream = config.upstreams.find((u) => u.name === source.upstream);
    return upstream?.min_release_age === undefined ? {} : { min_release_age: upstream.min_release_age };
  };
}

export async function openPolicy(
  config: Config,
  store: PolicyStore,
  advisoryStore: Advisories,
  audit: AuditRecorder,
  now: () => number,
  licenceFacts: UpstreamLicenceFacts,
): Promise<Policy> {
  const state = new PolicyState(store, configuredPolicy(config), now);
  await state.load();
  const advisories = new AdvisoryRule(state, advisoryStore);
  await advisories.load();
  const licences = new LicenceRule(state, licenceFacts);
  const rules: PolicyRule[] = [new HoldRule(state), new QuarantineRule(state, state, new FirstSightings(store)), advisories, licences];
  const admin = new PolicyAdmin(
    store,
    state,
    audit,
    config.upstreams.map((u) => u.name),
    now,
  );
  return { state, engine: new PolicyEngine(rules, now), admin, advisories, licences };
}
