// The supply-chain policy on the web pages: a crate page's section listing each version's findings
// (quarantine, holds, advisories, licences; held back or only marked), and the admin page of what
// is held back and why (versions held back now, from the database, a page at a time; holds and
// early releases in force; settings per source). Pure: plain data in, escaped HTML out.

import type { PolicyFinding } from '../../policy/version-rule.js';
import { html, type RawHtml } from './html.js';

const RULE_NAMES: Record<PolicyFinding['rule'], string> = {
  quarantine: 'quarantine',
  hold: 'held by an administrator',
  advisory: 'advisory',
  licence: 'licence',
};

function findingItem(version: string, f: PolicyFinding): RawHtml {
  const effect = f.effect === 'deny' ? html`<span class="badge yanked">held back</span>` : html`<span class="badge">warning</span>`;
  return html`<li data-version="${version}" data-rule="${f.rule}"><strong>${version}</strong> ${effect} ${RULE_NAMES[f.rule]}: ${f.detail}</li>`;
}

/** The crate page's section; the versions with findings, newest first as the file lists them last. */
export function cratePolicySection(findings: ReadonlyMap<string, readonly PolicyFinding[]>): RawHtml {
  const items = [...findings].reverse().flatMap(([version, list]) => list.map((f) => findingItem(version, f)));
  return html`<section aria-labelledby="policy-heading"><h2 id="policy-heading">Supply-chain policy</h2>
${items.length === 0 ? html`<p class="muted" id="policy-none">No version is held back or marked by this registry's policy.</p>` : html`<ul id="policy-findings">${items}</ul>`}
</section>`;
}

export interface PolicyPageInput {
  heldBack: Array<{ source: string; crate: string; version: string; findings: readonly PolicyFinding[] }>;
  /** The cursor of the next page of held-back versions; undefined on the last page. */
  heldBackNext?: string | undefined;
  exceptions: Array<{
    kind: string;
    source: string | null;
    crate: string;
    version: string | null;
    reason: string;
    created_by: string | null;
    created_at: string;
    expires_at: string | null;
  }>;
  settings: Array<{ source: string; effective: Record<string, string>; stored: Record<string, string> }>;
}

export function policyPageBody(input: PolicyPageInput): RawHtml {
  const held =
    input.heldBack.length === 0
      ? html`<p class="muted" id="held-back-none">Nothing is held back${input.heldBackNext === undefined ? '' : ' among these crates'}.</p>`
      : html`<table id="held-back"><thead><tr><th scope="col">Source</th><th scope="col">Version</th><th scope="col">Why</th></tr></thead>
<tbody>${input.heldBack.map(
          (h) =>
            html`<tr><td>${h.source}</td><td>${h.crate}@${h.version}</td><td>${h.findings.map((f) => html`${RULE_NAMES[f.rule]}: ${f.detail}<br>`)}</td></tr>`,
        )}</tbody></table>`;
  const exceptions =
    input.exceptions.length === 0
      ? html`<p class="muted" id="exceptions-none">No holds or early releases.</p>`
      : html`<table id="exceptions"><thead><tr><th scope="col">Kind</th><th scope="col">What</th><th scope="col">Source</th><th scope="col">Reason</th><th scope="col">By</th><th scope="col">Until</th></tr></thead>
<tbody>${input.exceptions.map(
          (e) =>
            html`<tr><td>${e.kind}</td><td>${e.crate}${e.version === null ? ' (every version)' : `@${e.version}`}</td><td>${e.source ?? 'every source'}</td><td>${e.reason}</td><td>${e.created_by ?? 'command line'}</td><td>${e.expires_at ?? 'removed by hand'}</td></tr>`,
        )}</tbody></table>`;
  const settings = html`<table id="policy-settings"><thead><tr><th scope="col">Source</th><th scope="col">Settings</th></tr></thead>
<tbody>${input.settings.map(
    (s) =>
      html`<tr><td>${s.source}</td><td>${
        Object.keys(s.effective).length === 0
          ? html`<span class="muted">none</span>`
          : Object.entries(s.effective).map(([k, v]) => html`<code>${k} = ${v}</code>${k in s.stored ? '' : ' (configuration file)'}<br>`)
      }</td></tr>`,
  )}</tbody></table>`;
  return html`<p>What the supply-chain policy holds back, and why. Change it with <code>cratekeeper policy</code> or the admin API (<code>/api/v1/admin/policy</code>).</p>
<section aria-labelledby="held-heading"><h2 id="held-heading">Held back</h2>${held}${
    input.heldBackNext === undefined
      ? ''
      : html`<p><a id="held-back-next" href="/admin/policy?after=${encodeURIComponent(input.heldBackNext)}">More</a></p>`
  }</section>
<section aria-labelledby="exceptions-heading"><h2 id="exceptions-heading">Holds and early releases</h2>${exceptions}</section>
<section aria-labelledby="settings-heading"><h2 id="settings-heading">Settings per source</h2>${settings}</section>`;
}
