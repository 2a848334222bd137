// Views of the admin pages: their index, users and groups, and the access rules in force, worded
// as src/auth/access-policy.ts applies them. Pure: plain data in, escaped HTML out. The audit log's
// view is admin-audit-page.ts.

import { accountControlsBody } from './device-lists.js';
import type { AccessRuleConfig } from '../../auth/access-policy.js';
import type { UserSummary } from '../../ports/catalog.js';
import { html, raw, type RawHtml } from './html.js';

const day = (iso: string) => iso.slice(0, 10);
const lines = (items: RawHtml[]) => raw(items.map((item) => item.html).join('<br>'));

export function adminIndexBody(): RawHtml {
  return html`<p>These pages are for global administrators only.</p>
<ul id="admin-pages">
<li><a href="/admin/users">Users and groups</a>: accounts, how they sign in, their groups and tokens.</li>
<li><a href="/admin/access">Access rules</a>: who may read, publish and administer which crates.</li>
<li><a href="/admin/audit">Audit log</a>: who did what, to which crate, with which token, from where.</li>
<li><a href="/admin/policy">Supply-chain policy</a>: what is held back (quarantine, holds, advisories, licences) and why.</li>
</ul>`;
}

function signInMethods(user: UserSummary): RawHtml {
  const methods = [...(user.hasPassword ? [html`password`] : []), ...user.identities.map((id) => html`OpenID <code>${id}</code>`)];
  return methods.length > 0 ? lines(methods) : html`<span class="muted">tokens only</span>`;
}

function userRows(users: UserSummary[]): RawHtml {
  if (users.length === 0) return html`<p class="muted">There are no users.</p>`;
  return html`<table id="users"><caption>${users.length} user${users.length === 1 ? '' : 's'}; active tokens include browser sessions</caption>
<thead><tr><th scope="col">Login</th><th scope="col">Admin</th><th scope="col">Created</th><th scope="col">Signs in with</th>
<th scope="col">Groups</th><th scope="col">Active tokens</th></tr></thead>
<tbody>${users.map(
    (
      u,
    ) => html`<tr data-login="${u.login}"><th scope="row">${u.login}</th><td>${u.isAdmin ? html`<strong>admin</strong>` : 'no'}</td><td>${day(u.createdAt)}</td>
<td>${signInMethods(u)}</td><td>${u.groups.length > 0 ? lines(u.groups.map((g) => html`${g.name} <span class="muted">(${g.source})</span>`)) : html`<span class="muted">none</span>`}</td>
<td>${u.activeTokens}</td></tr>`,
  )}</tbody></table>`;
}

/** Every group with its members, and the groups access rules name that have no members. */
export function groupsOf(users: UserSummary[], rules: readonly AccessRuleConfig[]): Map<string, { login: string; source: string }[]> {
  const groups = new Map<string, { login: string; source: string }[]>();
  for (const user of users)
    for (const g of user.groups) groups.set(g.name, [...(groups.get(g.name) ?? []), { login: user.login, source: g.source }]);
  for (const rule of rules) {
    for (const entry of [...(rule.read ?? []), ...(rule.publish ?? []), ...(rule.admins ?? [])]) {
      if (entry.startsWith('group:') && !groups.has(entry.slice(6))) groups.set(entry.slice(6), []);
    }
  }
  return new Map([...groups].sort(([a], [b]) => a.localeCompare(b)));
}

/** A small form that posts one change with the session's CSRF token. */
function changeForm(action: string, csrf: string, fields: Record<string, string>, label: string, accessibleLabel: string): RawHtml {
  return html`<form class="inline" method="post" action="${action}"><input type="hidden" name="csrf" value="${csrf}">${Object.entries(
    fields,
  ).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`,
  )}<button class="secondary" type="submit" aria-label="${accessibleLabel}">${label}</button></form>`;
}

function groupRows(groups: Map<string, { login: string; source: string }[]>, csrf: string): RawHtml {
  if (groups.size === 0) return html`<p class="muted">There are no groups.</p>`;
  return html`<table id="groups"><caption>${groups.size} group${groups.size === 1 ? '' : 's'}</caption>
<thead><tr><th scope="col">Group</th><th scope="col">Members</th></tr></thead>
<tbody>${[...groups].map(
    ([name, members]) =>
      html`<tr data-group="${name}"><th scope="row">${name}</th><td>${
        members.length > 0
          ? members.map(
              (m, i) =>
                html`${i > 0 ? ', ' : ''}${m.login} <span class="muted">(${m.source})</span>${
                  m.source === 'local'
                    ? html` ${changeForm('/admin/groups/remove-member', csrf, { group: name, login: m.login }, 'remove', `Remove ${m.login} from ${name}`)}`
                    : ''
                }`,
            )
          : html`<span class="muted">no members (named in an access rule)</span>`
      }</td></tr>`,
  )}</tbody></table>`;
}

export function usersBody(input: { users: UserSummary[]; rules: readonly AccessRuleConfig[]; csrf: string; notice?: string }): RawHtml {
  const { users, rules, csrf } = input;
  return html`${input.notice ? html`<p class="notice" role="status" id="notice">${input.notice}</p>` : ''}
<h2 id="users-heading">Users</h2>
${userRows(users)}
<form class="stack" method="post" action="/admin/users" id="add-user" aria-labelledby="add-user-heading">
<h3 id="add-user-heading">Add a user</h3>
<input type="hidden" name="csrf" value="${csrf}">
<label for="new-login">Login <span class="hint">letters, digits, <code>-</code> and <code>_</code>; they then sign in with OpenID (same login), a password set with <code>cratekeeper user passwd</code>, or a token you create for them</span></label>
<input id="new-login" name="login" required maxlength="64">
<label><input type="checkbox" name="admin" value="yes"> global administrator</label>
<p><button type="submit">Add the user</button></p>
</form>
${accountControlsBody(csrf)}
<h2 id="groups-heading">Groups</h2>
<p class="muted">A group's source says where membership comes from: <code>local</code> for memberships made on this registry (here, the CLI or the API), <code>oidc</code> for those the OpenID provider reports at each sign-in (change those at the provider).</p>
${groupRows(groupsOf(users, rules), csrf)}
<form class="stack" method="post" action="/admin/groups/add-member" id="add-member" aria-labelledby="add-member-heading">
<h3 id="add-member-heading">Add a member to a group</h3>
<input type="hidden" name="csrf" value="${csrf}">
<label for="member-group">Group <span class="hint">a new name creates the group</span></label>
<input id="member-group" name="group" required maxlength="100">
<label for="member-login">User</label>
<input id="member-login" name="login" required maxlength="64">
<p><button type="submit">Add to the group</button></p>
</form>`;
}

function subjects(list: string[] | undefined, absent: string): RawHtml {
  if (list === undefined) return html`<span class="muted">${absent}</span>`;
  if (list.length === 0) return html`<strong>nobody</strong>`;
  return raw(list.map((entry) => html`<code>${entry}</code>`.html).join(', '));
}

export function accessBody(input: { rules: readonly AccessRuleConfig[]; authRequired: boolean }): RawHtml {
  const { rules, authRequired } = input;
  const everyoneReads = authRequired ? 'everyone signed in' : 'everyone, without signing in too';
  const authentication = authRequired
    ? html`<p id="auth-required"><strong>Signing in is required</strong> for everything: index, downloads, search and these pages (<code>auth.required = true</code>).</p>`
    : html`<p id="auth-required"><strong>Signing in is not required</strong> to read (<code>auth.required = false</code>): anyone who can reach this registry may read the crates that no rule limits to named readers. Publishing always needs a token.</p>`;
  const explanation = html`<p id="how-rules-apply">For each crate, the <strong>first rule</strong> (in the order below) with a pattern matching its name decides; later rules are not consulted.
A crate that no rule matches is open to ${authRequired ? 'every signed-in user' : 'everyone'}. Global administrators may do everything, whatever the rules say.
A rule's administrators may also read its crates and publish new ones; <code>group:NAME</code> names a group, anything else a login.
Publishing a new version of an existing crate needs one of its owners, whatever the rules say.</p>`;
  const table =
    rules.length === 0
      ? html`<p id="no-rules">No access rules are configured: every crate is open to ${authRequired ? 'every signed-in user' : 'everyone'}.</p>`
      : html`<table id="rules"><caption>${rules.length} access rule${rules.length === 1 ? '' : 's'}, in the order they apply</caption>
<thead><tr><th scope="col">Rule</th><th scope="col">Crates</th><th scope="col">Who may read</th><th scope="col">Who may publish new crates</th>
<th scope="col">Who administers (yank, owners)</th></tr></thead>
<tbody>${rules.map(
          (
            rule,
            i,
          ) => html`<tr data-rule="${i + 1}"><th scope="row">${i + 1}</th><td>${raw(rule.crates.map((c) => html`<code>${c}</code>`.html).join(', '))}</td>
<td>${subjects(rule.read, everyoneReads)}</td><td>${subjects(rule.publish, 'everyone signed in')}</td><td>${subjects(rule.admins, "nobody beyond each crate's owners")}</td></tr>`,
        )}</tbody></table>`;
  return html`${authentication}
<h2>Rules</h2>
${explanation}
${table}`;
}
