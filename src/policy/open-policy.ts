// Wires the supply-chain policy: its state (settings and exceptions from the database, with the
// configuration file's defaults), the rules, and the engine that applies them. Each rule is one
// line in `rules` below; the engine asks them in this order.

import type { Config } from '../config/schema.js';
import type { Advisories } from '../ports/advisories.js';
import type { PolicyStore } from '../ports/policy-store.js';
import { AdvisoryRule } from './advisory-rule.js';
import type { AuditRecorder } from '../services/audit-recorder.js';
import { FirstSightings } from './first-sightings.js';
import { HeldBackList } from './held-back-list.js';
import { HoldRule } from './hold-rule.js';
import { LicenceRule, type UpstreamLicenceFacts } from './licence-rule.js';
import { PolicyAdmin } from './policy-admin.js';
import { PolicyEngine } from './policy-engine.js';
import type { SourcePolicy } from './policy-settings.js';
import { PolicyState } from './policy-state.js';
import { QuarantineRule } from './quarantine-rule.js';
import type { PolicyRule, PolicySource, VersionUnderReview } from './version-rule.js';

export interface Policy {
  state: PolicyState;
  engine: PolicyEngine;
  /** Settings, holds and releases as administrators change them (CLI, admin API, admin page). */
  admin: PolicyAdmin;
  /** The advisory rule, for its reload on a sync and the advisories of a crate (pages, API). */
  advisories: AdvisoryRule;
  /** Also judges local publishes (PublishService). */
  licences: LicenceRule;
  /** What is held back and why, from the database (the admin page and API). */
  heldBack: HeldBackList;
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
  /** A local crate's published versions (lower-case name), for the held-back list. */
  localVersions: (lowerName: string) => Promise<VersionUnderReview[]>,
): Promise<Policy> {
  const state = new PolicyState(store, configuredPolicy(config), now);
  await state.load();
  const advisories = new AdvisoryRule(state, advisoryStore);
  await advisories.load();
  const licences = new LicenceRule(state, licenceFacts);
  const holds = new HoldRule(state);
  const quarantine = new QuarantineRule(state, state, new FirstSightings(store));
  const rules: PolicyRule[] = [holds, quarantine, advisories, licences];
  const upstreams = config.upstreams.map((u) => u.name);
  const heldBack = new HeldBackList(
    { store, advisories: advisoryStore, localVersions, upstreams },
    state,
    state,
    [holds, quarantine, advisories],
    now,
  );
  const admin = new PolicyAdmin(store, state, audit, upstreams, now);
  return { state, engine: new PolicyEngine(rules, now), admin, advisories, licences, heldBack };
}
