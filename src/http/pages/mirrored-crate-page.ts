// A mirrored crate's page (`/crates/<name>?source=<upstream>`): its versions, newest first, each with
// what the supply-chain policy says of it (quarantine and when it ends, holds, upstream advisories,
// licences). Read-only: a mirrored crate has no README, owners or downloads here. Pure: plain data
// in, escaped HTML out.

import type { VersionFinding } from '../../policy/crate-findings.js';
import { html, type RawHtml } from './html.js';

export interface MirroredCrateView {
  upstream: string;
  crate: string;
  versions: Array<{ num: string; yanked: boolean; pubtime: string | null; status: 'ok' | 'warned' | 'denied'; findings: VersionFinding[] }>;
  versions_omitted: number;
}

const STATUS: Record<MirroredCrateView['versions'][number]['status'], RawHtml> = {
  ok: html`<span class="muted">served</span>`,
  warned: html`<span class="badge">warning</span>`,
  denied: html`<span class="badge yanked">held back</span>`,
};

function findingText(f: VersionFinding): RawHtml {
  const until = f.released_at === null ? '' : html` <span class="release-time">(released ${f.released_at})</span>`;
  return html`<li data-rule="${f.rule}">${f.rule}: ${f.detail}${until}</li>`;
}

export function mirroredCrateBody(view: MirroredCrateView): RawHtml {
  return html`<p>Mirrored from upstream <strong>${view.upstream}</strong>. Read-only: what this registry's supply-chain policy says of each version.</p>
<table id="mirrored-versions"><thead><tr><th scope="col">Version</th><th scope="col">Published upstream</th><th scope="col">Status</th><th scope="col">Findings</th></tr></thead>
<tbody>${view.versions.map(
    (v) =>
      html`<tr data-version="${v.num}"><td>${v.num}${v.yanked ? html` <span class="badge">yanked upstream</span>` : ''}</td><td>${v.pubtime ?? html`<span class="muted">not given</span>`}</td><td>${STATUS[v.status]}</td><td>${
        v.findings.length === 0 ? '' : html`<ul>${v.findings.map(findingText)}</ul>`
      }</td></tr>`,
  )}</tbody></table>${
    view.versions_omitted > 0
      ? html`<p class="muted" id="versions-omitted">${view.versions_omitted} older versions are not listed.</p>`
      : ''
  }`;
}
