// Who may read and publish which crates, from the `[[access.rules]]` of the configuration. The
// first rule whose crate patterns match a crate decides for it; a crate no rule matches is open to
// every signed-in user. Global admins may do everything. Rules name users by login and groups as
// `group:NAME`.
//
// - read: who may see the crate at all (index, download, search, owners). Anyone else gets 404,
//   so the name does not leak. Absent: everyone (anonymous too when auth.required is off).
// - publish: who may publish a *new* crate under the patterns. Absent: everyone. New versions of an
//   existing crate need an owner, as always. Creating a crate also needs the right to read it.
// - admins: who may yank and manage owners of every crate under the patterns.

import { matchesAnyCratePattern, parseCratePattern, type CratePattern } from '../domain/crate-pattern.js';
import { forbidden } from '../domain/errors.js';
import type { ReadableCrates } from '../ports/crate-search.js';
import type { TokenPrincipal } from '../ports/tokens.js';

export interface AccessRuleConfig {
  crates: string[];
  read?: string[] | undefined;
  publish?: string[] | undefined;
  admins?: string[] | undefined;
}

interface Subjects {
  logins: Set<string>;
  groups: Set<string>;
  text: string;
}

interface AccessRule {
  index: number;
  crates: CratePattern[];
  read: Subjects | undefined;
  publish: Subjects | undefined;
  admins: Subjects | undefined;
}

function parseSubjects(list: string[] | undefined): Subjects | undefined {
  if (list === undefined) return undefined;
  const subjects: Subjects = { logins: new Set(), groups: new Set(), text: list.join(', ') || 'nobody' };
  for (const entry of list) {
    if (entry.startsWith('group:')) subjects.groups.add(entry.slice('group:'.length));
    else subjects.logins.add(entry);
  }
  return subjects;
}

function includes(subjects: Subjects, principal: TokenPrincipal | null): boolean {
  if (!principal) return false;
  return subjects.logins.has(principal.login) || principal.groups.some((g) => subjects.groups.has(g));
}

export class AccessPolicy {
  private readonly rules: AccessRule[];
  /** Whether any rule limits reading; when none does, search can skip filtering. */
  readonly restrictsReading: boolean;

  constructor(rules: readonly AccessRuleConfig[]) {
    this.rules = rules.map((rule, index) => ({
      index,
      crates: rule.crates.map(parseCratePattern),
      read: parseSubjects(rule.read),
      publish: parseSubjects(rule.publish),
      admins: parseSubjects(rule.admins),
    }));
    this.restrictsReading = this.rules.some((r) => r.read !== undefined);
  }

  private ruleFor(crateName: string): AccessRule | undefined {
    return this.rules.find((rule) => matchesAnyCratePattern(rule.crates, crateName));
  }

  isCrateAdmin(principal: TokenPrincipal | null, crateName: string): boolean {
    if (principal?.isAdmin) return true;
    const admins = this.ruleFor(crateName)?.admins;
    return admins !== undefined && includes(admins, principal);
  }

  mayRead(principal: TokenPrincipal | null, crateName: string): boolean {
    if (principal?.isAdmin) return true;
    const rule = this.ruleFor(crateName);
    if (!rule?.read) return true;
    return includes(rule.read, principal) || (rule.admins !== undefined && includes(rule.admins, principal));
  }

  /**
   * What `mayRead` decides for this principal, as rules a database can apply while searching;
   * undefined when the principal may read every crate.
   */
  readableCrates(principal: TokenPrincipal | null): ReadableCrates | undefined {
    if (principal?.isAdmin || !this.restrictsReading) return undefined;
    const rules = this.rules.map((rule) => ({
      patterns: rule.crates,
      readable: !rule.read || includes(rule.read, principal) || (rule.admins !== undefined && includes(rule.admins, principal)),
    }));
    return rules.every((r) => r.readable) ? undefined : { rules };
  }

  /**
   * Throws `forbidden`, naming the rule, when the principal may not create this crate. Nobody may
   * create a crate they could not read: a publish of a hidden crate's name then gets the answer
   * that a free name under the same rule gets, and tells nothing of the hidden crate.
   */
  assertMayPublishNew(principal: TokenPrincipal, crateName: string): void {
    if (principal.isAdmin) return;
    const rule = this.ruleFor(crateName);
    if (!rule) return;
    const isRuleAdmin = rule.admins !== undefined && includes(rule.admins, principal);
    const mayPublish = !rule.publish || includes(rule.publish, principal) || isRuleAdmin;
    const mayRead = !rule.read || includes(rule.read, principal) || isRuleAdmin;
    if (mayPublish && mayRead) return;
    const patterns = rule.crates.map((c) => `\`${c.text}\``).join(', ');
    throw forbidden(
      'publish-not-allowed',
      `you may not publish new crates matching ${patterns}; ` +
        (mayPublish
          ? `access rule ${rule.index + 1} lets only ${rule.read!.text} read them`
          : `access rule ${rule.index + 1} allows ${rule.publish!.text}`),
    );
  }
}
