// A crate's page: README, the `cargo add` line with a copy button, versions (yanked ones marked),
// dependencies, features, owners, license and links, and download counts with a small chart.
// The page is rendered on every view, so each table is bounded (far above real crates) and says
// how much it leaves out, and each text a publisher wrote is cut (html.ts `clip`): a crate with
// 50,000 versions or features, or a megabyte of description, costs no more than an ordinary one.

import type { CatalogVersion } from '../../ports/catalog.js';
import type { CrateView, DependencyView } from '../../services/crate-pages.js';
import type { PolicyFinding } from '../../policy/version-rule.js';
import type { LocalLicenceVerdict } from '../../policy/licence-rule.js';
import { clip, html, raw, type RawHtml } from './html.js';
import { cratePolicySection } from './policy-pages.js';

/** The newest versions listed (the selected one is listed too, wherever it is). */
export const MAX_VERSIONS_SHOWN = 100;
/** Features listed, by name, and the features or dependencies each one's row names. */
export const MAX_FEATURES_SHOWN = 1000;
export const MAX_ENABLES_SHOWN = 20;
/** Characters shown of what a publisher wrote (see `clip`): prose, then names, URLs and the like. */
export const MAX_TEXT_SHOWN = 2_000;
const MAX_WORD_SHOWN = 200;
/** Keywords and categories listed (crates.io allows five). */
const MAX_TAGS_SHOWN = 20;

const count = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

export interface CratePageExtras {
  registryName: string;
  /** Sanitized HTML (workers/readme-markdown.ts), or undefined when the version has no README. */
  readmeHtml: string | undefined;
  /** Downloads per version, and an inline SVG chart of the last days (pages/download-chart.ts). */
  downloads: { perVersion: ReadonlyMap<string, number>; total: number; chartSvg: string };
  /** The supply-chain policy's findings by version (src/policy/); versions without any are absent. */
  policyFindings: ReadonlyMap<string, readonly PolicyFinding[]>;
  /** What the registry's licence rule says today of the selected version's licence (information). */
  licenceVerdict?: LocalLicenceVerdict;
  /** Rustdoc (docs/rustdoc.md): where this version's docs are, and, for owners, the builds and their logs. */
  docs?: { path: string | undefined; builds: { version: string; status: string; log: string }[] | undefined };
}

function docBuilds(builds: { version: string; status: string; log: string }[]): RawHtml {
  return html`<section aria-labelledby="doc-builds-heading"><h2 id="doc-builds-heading">Documentation builds</h2>
${builds.length === 0 ? html`<p class="muted">No documentation was built or uploaded yet.</p>` : ''}
<ul id="doc-builds">${builds.map(
    (b) =>
      html`<li><strong>${b.version}</strong> <span class="badge">${b.status}</span>${
        b.log ? html`<details><summary>Log</summary><pre>${b.log}</pre></details>` : ''
      }</li>`,
  )}</ul>
</section>`;
}

const day = (iso: string) => iso.slice(0, 10);

const LICENCE_VERDICTS: Record<LocalLicenceVerdict['verdict'], string> = {
  allowed: "allowed by this registry's licence rule",
  warned: "warned about by this registry's licence rule",
  denied: "not allowed by this registry's licence rule today",
  unknown: "not judged by this registry's licence rule",
  'no-rule': '',
};

/** The licence rule's verdict on the selected version, as information (it was judged when published); nothing without a rule. */
function licenceNote(v: LocalLicenceVerdict | undefined): RawHtml | string {
  if (v === undefined || v.verdict === 'no-rule') return '';
  return html`<br><span class="muted" id="licence-verdict" data-verdict="${v.verdict}">${LICENCE_VERDICTS[v.verdict]}${
    v.reason === null ? '' : html`: ${clip(v.reason, MAX_TEXT_SHOWN)}`
  }</span>`;
}

/** Only http(s) URLs become links; anything else is shown as text. */
function externalLink(url: string | null, label: string): RawHtml | string {
  if (!url) return '';
  if (url.length > MAX_TEXT_SHOWN) return html`<dt>${label}</dt><dd>${clip(url, MAX_WORD_SHOWN)}</dd>`;
  try {
    const parsed = new URL(url);
    if (parsed.protocol === 'https:' || parsed.protocol === 'http:') {
      return html`<dt>${label}</dt><dd><a href="${parsed.href}" rel="nofollow noopener noreferrer">${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}</a></dd>`;
    }
  } catch {
    // not a URL: shown as text below
  }
  return html`<dt>${label}</dt><dd>${url}</dd>`;
}

function tags(list: readonly string[]): string {
  const shown = list
    .slice(0, MAX_TAGS_SHOWN)
    .map((tag) => clip(tag, MAX_WORD_SHOWN))
    .join(', ');
  return list.length > MAX_TAGS_SHOWN ? `${shown}, …` : shown;
}

function versionLink(name: string, v: CatalogVersion): string {
  return `/crates/${encodeURIComponent(name)}/${encodeURIComponent(v.entry.vers)}`;
}

function dependencyRow(d: DependencyView): RawHtml {
  const word = (text: string) => clip(text, MAX_WORD_SHOWN);
  const label = d.package ? html`${word(d.name)} <span class="muted">(${word(d.package)})</span>` : html`${word(d.name)}`;
  const nameCell = d.href ? html`<a href="${d.href}">${label}</a>` : label;
  const notes = [
    d.optional ? 'optional' : '',
    d.target ? `target ${word(d.target)}` : '',
    d.registry && !d.href ? `from ${word(d.registry)}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return html`<tr><td>${nameCell}</td><td><code>${word(d.req)}</code></td><td>${notes}</td></tr>`;
}

function dependencySection(title: string, deps: DependencyView[]): RawHtml | string {
  if (deps.length === 0) return '';
  return html`<h3>${title}</h3>
<table><thead><tr><th scope="col">Crate</th><th scope="col">Requirement</th><th scope="col">Notes</th></tr></thead>
<tbody>${deps.map(dependencyRow)}</tbody></table>`;
}

function enables(list: readonly string[]): RawHtml | string {
  if (list.length === 0) return html`<span class="muted">nothing else</span>`;
  const names = list
    .slice(0, MAX_ENABLES_SHOWN)
    .map((name) => clip(name, MAX_WORD_SHOWN))
    .join(', ');
  if (list.length <= MAX_ENABLES_SHOWN) return names;
  return html`${names} <span class="muted">and ${count(list.length - MAX_ENABLES_SHOWN)} more</span>`;
}

function features(v: CatalogVersion): RawHtml {
  const all = { ...v.entry.features, ...(v.entry.features2 ?? {}) };
  const names = Object.keys(all).sort();
  if (names.length === 0) return html`<p class="muted">This version has no features.</p>`;
  const shown = names.slice(0, MAX_FEATURES_SHOWN);
  return html`<table><thead><tr><th scope="col">Feature</th><th scope="col">Enables</th></tr></thead><tbody>${shown.map(
    (n) => html`<tr><td><code>${clip(n, MAX_WORD_SHOWN)}</code></td><td>${enables(all[n]!)}</td></tr>`,
  )}</tbody></table>${
    names.length > shown.length
      ? html`<p class="muted" id="features-omitted">The first ${count(shown.length)} of ${count(names.length)} features are listed.</p>`
      : ''
  }`;
}

function versionRow(name: string, v: CatalogVersion, selected: CatalogVersion, perVersion: ReadonlyMap<string, number>): RawHtml {
  return html`<tr${v.yanked ? raw(' class="yanked"') : ''}><td><a href="${versionLink(name, v)}"${v === selected ? raw(' aria-current="page"') : ''}>${v.entry.vers}</a>${v.yanked ? html` <span class="badge">yanked</span>` : ''}</td>
<td>${day(v.publishedAt)}</td><td>${perVersion.get(v.entry.vers) ?? 0}</td></tr>`;
}

function versionsTable(view: CrateView, perVersion: ReadonlyMap<string, number>): RawHtml {
  const shown = view.versions.slice(0, MAX_VERSIONS_SHOWN);
  if (!shown.includes(view.selected)) shown.push(view.selected);
  const omitted = view.versions.length - shown.length;
  return html`<table id="versions"><thead><tr><th scope="col">Version</th><th scope="col">Published</th><th scope="col">Downloads</th></tr></thead>
<tbody>${shown.map((v) => versionRow(view.crate.name, v, view.selected, perVersion))}</tbody></table>${
    omitted > 0
      ? html`<p class="muted" id="versions-omitted">${count(omitted)} older versions are not listed; open one at <code>/crates/${view.crate.name}/VERSION</code>.</p>`
      : ''
  }`;
}

export function crateBody(view: CrateView, extras: CratePageExtras): RawHtml {
  const { crate, selected } = view;
  const d = view.details;
  const addLine = `cargo add ${crate.name}@${selected.entry.vers} --registry ${extras.registryName}`;
  const byKind = (kind: DependencyView['kind']) => view.dependencies.filter((x) => x.kind === kind);
  const owners = [...view.owners.users.map((u) => html`<li>${u.login}</li>`), ...view.owners.groups.map((g) => html`<li>group ${g}</li>`)];
  return html`<p id="crate-version"><strong>${selected.entry.vers}</strong>${selected.yanked ? html` <span class="badge yanked">yanked</span>` : ''}
<span class="muted">published ${day(selected.publishedAt)}${selected.publishedBy ? ` by ${selected.publishedBy}` : ''}</span></p>
${d.description ? html`<p id="description">${clip(d.description, MAX_TEXT_SHOWN)}</p>` : ''}
<div class="install"><pre><code id="cargo-add">${addLine}</code></pre><button type="button" class="secondary" data-copy="${addLine}" hidden>Copy</button></div>
<div class="crate-layout">
<div>
<section aria-labelledby="readme-heading"><h2 id="readme-heading">README</h2>
${extras.readmeHtml === undefined ? html`<p class="muted">This version has no README.</p>` : html`<div class="readme" id="readme">${raw(extras.readmeHtml)}</div>`}
</section>
<section aria-labelledby="deps-heading"><h2 id="deps-heading">Dependencies</h2>
${view.dependencies.length === 0 ? html`<p class="muted">No dependencies.</p>` : ''}
${dependencySection('Normal', byKind('normal'))}${dependencySection('Build', byKind('build'))}${dependencySection('Development', byKind('dev'))}
${view.dependencyCount > view.dependencies.length ? html`<p class="muted" id="dependencies-omitted">The first ${count(view.dependencies.length)} of ${count(view.dependencyCount)} dependencies are listed.</p>` : ''}
</section>
<section aria-labelledby="features-heading"><h2 id="features-heading">Features</h2>${features(selected)}</section>
<section aria-labelledby="downloads-heading"><h2 id="downloads-heading">Downloads</h2>
<p id="downloads-total">${extras.downloads.total} in all</p>
${raw(extras.downloads.chartSvg)}
</section>
<section aria-labelledby="versions-heading"><h2 id="versions-heading">Versions</h2>
${versionsTable(view, extras.downloads.perVersion)}
</section>
${cratePolicySection(extras.policyFindings)}
${extras.docs?.builds ? docBuilds(extras.docs.builds) : ''}
</div>
<aside class="facts" aria-label="About this crate"><dl>
<dt>License</dt><dd id="license">${d.license === null ? 'not stated' : clip(d.license, MAX_WORD_SHOWN)}${licenceNote(extras.licenceVerdict)}</dd>
${selected.entry.rust_version ? html`<dt>Minimum Rust</dt><dd>${clip(selected.entry.rust_version, MAX_WORD_SHOWN)}</dd>` : ''}
${extras.docs?.path ? html`<dt>Docs</dt><dd><a id="docs-link" href="${extras.docs.path}">hosted here</a></dd>` : ''}
${externalLink(d.repository, 'Repository')}${externalLink(d.homepage, 'Homepage')}${externalLink(d.documentation, 'Documentation')}
<dt>Owners</dt><dd><ul id="owners">${owners}</ul></dd>
${d.keywords.length ? html`<dt>Keywords</dt><dd>${tags(d.keywords)}</dd>` : ''}
${d.categories.length ? html`<dt>Categories</dt><dd>${tags(d.categories)}</dd>` : ''}
<dt>First published</dt><dd>${day(crate.createdAt)}</dd>
</dl></aside>
</div>`;
}
